/**
 * The Turso fake's world: one organization, its groups and databases. Tests may
 * read it (did the database get created?) and seed it (a database made "outside"
 * the system, to be adopted).
 */
import { randomUUID } from "node:crypto";
import type { components } from "../../../src/providers/turso/openapi.d.ts";

export type TursoDatabase = components["schemas"]["Database"];

export interface FakeGroup {
  readonly name: string;
  readonly uuid: string;
  readonly primary: string;
}

export interface FakeDatabase {
  readonly DbId: string;
  readonly Name: string;
  readonly Hostname: string;
  readonly group: string;
  readonly primaryRegion: string;
}

export const DEFAULT_LOCATION = "aws-us-east-1";

export class FakeTursoState {
  readonly org: string;
  readonly groups = new Map<string, FakeGroup>();
  readonly databases = new Map<string, FakeDatabase>();

  constructor(org: string, groups: ReadonlyArray<string>) {
    this.org = org;
    for (const name of groups) this.addGroup(name);
  }

  addGroup(name: string, primary = DEFAULT_LOCATION): FakeGroup {
    const group = { name, uuid: randomUUID(), primary };
    this.groups.set(name, group);
    return group;
  }

  /** Adds a database the way Turso names it: hostname `<db>-<org>.turso.io`. */
  addDatabase(name: string, groupName: string): FakeDatabase {
    const group = this.groups.get(groupName);
    const database = {
      DbId: randomUUID(),
      Name: name,
      Hostname: `${name}-${this.org}.turso.io`,
      group: groupName,
      primaryRegion: group?.primary ?? DEFAULT_LOCATION,
    };
    this.databases.set(name, database);
    return database;
  }

  /** The database as Turso's API describes it (`components.schemas.Database`). */
  describe(database: FakeDatabase): TursoDatabase {
    return {
      Name: database.Name,
      DbId: database.DbId,
      Hostname: database.Hostname,
      block_reads: false,
      block_writes: false,
      regions: [database.primaryRegion],
      primaryRegion: database.primaryRegion,
      group: database.group,
      delete_protection: false,
      parent: null,
    };
  }
}
