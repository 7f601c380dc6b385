/**
 * Every secret this sandbox instance has configured or handed out. Tests fetch the list and scan stored
 * workflow histories and logs for any of them, to prove that no credential leaks where it should not.
 */
export class IssuedSecrets {
  #secrets = new Set<string>();

  add(secret: string): void {
    this.#secrets.add(secret);
  }

  list(): string[] {
    return [...this.#secrets];
  }
}
