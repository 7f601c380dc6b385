/** Every tool the notes server can offer; `archive_note` only once a test adds it. */
export const notesToolNames = ['create_note', 'list_notes', 'whoami', 'fail_softly', 'delete_note', 'archive_note'] as const;
export type NotesToolName = (typeof notesToolNames)[number];
const initialTools: readonly NotesToolName[] = ['create_note', 'list_notes', 'whoami', 'fail_softly', 'delete_note'];

/**
 * How the notes MCP server misbehaves, as tests switch it at runtime through /_sandbox (see controls.ts).
 * Per sandbox instance; all off at start.
 */
export class NotesModes {
  /** Users whose every request is answered with the 401 challenge, valid token or not. */
  readonly challengedUsers = new Set<string>();
  /** Every authenticated request is answered with a JSON body that is not JSON-RPC. */
  malformed = false;
  /** When above 0, list_notes answers with at least this many megabytes (padding entries after the real notes). */
  hugeMegabytes = 0;
  #tools = new Set<NotesToolName>(initialTools);
  #toolListeners = new Set<() => void>();

  tools(): NotesToolName[] {
    return notesToolNames.filter((name) => this.#tools.has(name));
  }

  hasTool(name: NotesToolName): boolean {
    return this.#tools.has(name);
  }

  /** Adds or removes a tool; connected clients are told when the list changes. Returns whether it did. */
  setTool(name: NotesToolName, enabled: boolean): boolean {
    if (this.#tools.has(name) === enabled) return false;
    if (enabled) this.#tools.add(name);
    else this.#tools.delete(name);
    for (const listener of this.#toolListeners) listener();
    return true;
  }

  onToolsChanged(listener: () => void): void {
    this.#toolListeners.add(listener);
  }

  describe(): { challengedUsers: string[]; malformed: boolean; hugeMegabytes: number; tools: NotesToolName[] } {
    return { challengedUsers: [...this.challengedUsers], malformed: this.malformed, hugeMegabytes: this.hugeMegabytes, tools: this.tools() };
  }
}
