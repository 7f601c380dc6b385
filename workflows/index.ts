/** Entry of the workflow bundle the worker loads. */
import { tools } from './catalog.ts';
import { createDispatcher } from './sdk/dispatcher.ts';

export default createDispatcher(tools);
