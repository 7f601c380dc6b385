/**
 * Baton's custom search attributes, so runs can be found in the Temporal UI and with `workflow list`:
 * who started it, which tool, and which apps it is waiting on the user to connect. They hold identifiers
 * only (never a secret: search attributes are stored and indexed in plain text). A namespace must have
 * them registered before Baton starts runs in it (the dev servers here register them themselves).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The caller's subject (user id at the identity provider), set when the gateway starts the run. */
export const BatonUser = defineSearchAttributeKey('BatonUser', SearchAttributeType.KEYWORD);
/** The tool's name, set when the gateway starts the run. */
export const BatonTool = defineSearchAttributeKey('BatonTool', SearchAttributeType.KEYWORD);
/** App ids any workflow of the run waits on consent for, kept on the root run; absent when none. */
export const BatonWaitingFor = defineSearchAttributeKey('BatonWaitingFor', SearchAttributeType.KEYWORD_LIST);

export const batonSearchAttributes = [BatonUser, BatonTool, BatonWaitingFor];
