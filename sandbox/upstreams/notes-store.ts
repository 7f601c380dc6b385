/** One note as the notes MCP server returns it. */
export interface Note {
  id: string;
  title: string;
  body: string;
  /** The demo user who created it: the `sub` of the token the create_note call carried. */
  owner: string;
}

/**
 * The notes upstream's data: every user's notes, kept per sandbox instance. Each user sees only their own,
 * which is what lets a test tell whose token a call really carried.
 */
export class NotesStore {
  #notes: (Note & { archived: boolean })[] = [];
  #lastId = 0;

  create(owner: string, title: string, body: string): Note {
    this.#lastId += 1;
    const note = { id: `note-${this.#lastId}`, title, body, owner };
    this.#notes.push({ ...note, archived: false });
    return note;
  }

  /** The owner's notes that are not archived. */
  listFor(owner: string): Note[] {
    return this.#notes.filter((note) => note.owner === owner && !note.archived).map(({ archived: _archived, ...note }) => note);
  }

  /** Archives one of the owner's notes; undefined when they have no such note (another user's included). */
  archive(owner: string, id: string): Note | undefined {
    const found = this.#notes.find((note) => note.id === id && note.owner === owner && !note.archived);
    if (!found) return undefined;
    found.archived = true;
    const { archived: _archived, ...note } = found;
    return note;
  }

  /** Deletes one of the owner's notes for good; undefined when they have no such note. */
  delete(owner: string, id: string): Note | undefined {
    const index = this.#notes.findIndex((note) => note.id === id && note.owner === owner && !note.archived);
    if (index < 0) return undefined;
    const [{ archived: _archived, ...note }] = this.#notes.splice(index, 1) as [Note & { archived: boolean }];
    return note;
  }

  /** Every user's notes, archived ones too, for the test controls. */
  all(): (Note & { archived: boolean })[] {
    return this.#notes.map((note) => ({ ...note }));
  }
}
