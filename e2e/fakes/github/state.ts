/**
 * What the GitHub fake knows: accounts, repositories, App installations and
 * the credentials it has handed out. Tests read and change it directly.
 *
 * Logins and repository names are case-insensitive on GitHub, so every map is
 * keyed by the lower-cased name while objects keep the spelling they were given.
 */
import { randomBytes } from "node:crypto";

export type Permission = "read" | "write";
export type Permissions = Readonly<Record<string, Permission>>;

export interface FakeAccount {
  readonly id: number;
  readonly login: string;
  readonly type: "User" | "Organization";
  readonly name: string | null;
  readonly email: string | null;
  /** Logins of an organization's members (empty for users). */
  readonly members: Set<string>;
  readonly createdAt: string;
}

export interface FakeRepo {
  readonly id: number;
  readonly ownerLogin: string;
  readonly name: string;
  readonly private: boolean;
  readonly defaultBranch: string;
  readonly description: string | null;
  readonly createdAt: string;
}

export interface FakeInstallation {
  readonly id: number;
  readonly accountLogin: string;
  /** "all" covers every repository of the account, including ones created later. */
  repositorySelection: "all" | "selected";
  /** Lower-cased names of the selected repositories (used when the selection is "selected"). */
  readonly repositoryNames: Set<string>;
  readonly permissions: Permissions;
  readonly createdAt: string;
}

export interface FakeUserToken {
  readonly token: string;
  readonly login: string;
  readonly scopes: ReadonlyArray<string>;
  revoked: boolean;
}

export interface FakeInstallationToken {
  readonly token: string;
  readonly installationId: number;
  /** Lower-cased repository names the token is restricted to, or every repository of the installation. */
  readonly repositoryNames: ReadonlyArray<string> | "all";
  readonly permissions: Permissions;
  readonly expiresAt: Date;
}

export interface FakeAuthCode {
  readonly code: string;
  readonly login: string;
  readonly redirectUri: string;
  readonly scopes: ReadonlyArray<string>;
  readonly codeChallenge: string | undefined;
  readonly expiresAt: Date;
  used: boolean;
}

const key = (name: string): string => name.toLowerCase();
const fullNameKey = (owner: string, name: string): string => `${key(owner)}/${key(name)}`;

/** GitHub's token prefixes: `gho_` OAuth user tokens, `ghs_` installation tokens. */
const newToken = (prefix: "gho_" | "ghs_"): string => prefix + randomBytes(18).toString("hex").slice(0, 36);

export class GitHubFakeState {
  readonly accounts = new Map<string, FakeAccount>();
  readonly repos = new Map<string, FakeRepo>();
  readonly installations = new Map<number, FakeInstallation>();
  readonly userTokens = new Map<string, FakeUserToken>();
  readonly installationTokens = new Map<string, FakeInstallationToken>();
  readonly authCodes = new Map<string, FakeAuthCode>();
  /** The login "signed in" on the fake's web pages; OAuth and install pages act at once for them. */
  signedInAs: string | undefined;
  private lastId = 1000;

  nextId(): number {
    this.lastId += 1;
    return this.lastId;
  }

  addUser(input: { readonly login: string; readonly name?: string | null; readonly email?: string | null }): FakeAccount {
    return this.addAccount({ ...input, type: "User", members: [] });
  }

  addOrg(input: { readonly login: string; readonly members?: ReadonlyArray<string> }): FakeAccount {
    return this.addAccount({ login: input.login, type: "Organization", members: input.members ?? [] });
  }

  private addAccount(input: {
    readonly login: string;
    readonly type: FakeAccount["type"];
    readonly name?: string | null;
    readonly email?: string | null;
    readonly members: ReadonlyArray<string>;
  }): FakeAccount {
    if (this.accounts.has(key(input.login))) throw new Error(`GitHub fake: account ${input.login} already exists`);
    const account: FakeAccount = {
      id: this.nextId(),
      login: input.login,
      type: input.type,
      name: input.name ?? null,
      email: input.email ?? null,
      members: new Set(input.members.map(key)),
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    };
    this.accounts.set(key(input.login), account);
    return account;
  }

  account(login: string): FakeAccount | undefined {
    return this.accounts.get(key(login));
  }

  /** Adds a repository; `fullName` is "owner/name" and the owner account must exist. */
  addRepo(input: { readonly fullName: string; readonly private?: boolean; readonly defaultBranch?: string; readonly description?: string | null }): FakeRepo {
    const [ownerLogin, name, ...rest] = input.fullName.split("/");
    if (ownerLogin === undefined || name === undefined || rest.length > 0) throw new Error(`GitHub fake: "${input.fullName}" is not owner/name`);
    const owner = this.account(ownerLogin);
    if (!owner) throw new Error(`GitHub fake: no account ${ownerLogin} for repository ${input.fullName}`);
    if (this.repo(owner.login, name)) throw new Error(`GitHub fake: repository ${input.fullName} already exists`);
    const repo: FakeRepo = {
      id: this.nextId(),
      ownerLogin: owner.login,
      name,
      private: input.private ?? false,
      defaultBranch: input.defaultBranch ?? "main",
      description: input.description ?? null,
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    };
    this.repos.set(fullNameKey(owner.login, name), repo);
    return repo;
  }

  repo(owner: string, name: string): FakeRepo | undefined {
    return this.repos.get(fullNameKey(owner, name));
  }

  reposOf(login: string): ReadonlyArray<FakeRepo> {
    return [...this.repos.values()].filter((repo) => key(repo.ownerLogin) === key(login));
  }

  /** True when `login` is the account itself or a member of the organization. */
  belongsTo(login: string, accountLogin: string): boolean {
    const account = this.account(accountLogin);
    return account !== undefined && (key(account.login) === key(login) || account.members.has(key(login)));
  }

  installationOn(accountLogin: string): FakeInstallation | undefined {
    return [...this.installations.values()].find((installation) => key(installation.accountLogin) === key(accountLogin));
  }

  /** Installs the App on an account (one installation per account, as on GitHub). */
  install(input: {
    readonly account: string;
    readonly repositories?: "all" | ReadonlyArray<string>;
    readonly permissions: Permissions;
  }): FakeInstallation {
    const account = this.account(input.account);
    if (!account) throw new Error(`GitHub fake: no account ${input.account} to install the App on`);
    if (this.installationOn(account.login)) throw new Error(`GitHub fake: the App is already installed on ${account.login}`);
    const selection = input.repositories ?? "all";
    const installation: FakeInstallation = {
      id: this.nextId(),
      accountLogin: account.login,
      repositorySelection: selection === "all" ? "all" : "selected",
      repositoryNames: new Set(selection === "all" ? [] : selection.map(key)),
      permissions: input.permissions,
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    };
    this.installations.set(installation.id, installation);
    return installation;
  }

  /** Removes an installation and every token minted for it. */
  uninstall(installationId: number): FakeInstallation | undefined {
    const installation = this.installations.get(installationId);
    this.installations.delete(installationId);
    for (const [token, minted] of this.installationTokens) {
      if (minted.installationId === installationId) this.installationTokens.delete(token);
    }
    return installation;
  }

  installationCovers(installation: FakeInstallation, repo: FakeRepo): boolean {
    if (key(repo.ownerLogin) !== key(installation.accountLogin)) return false;
    return installation.repositorySelection === "all" || installation.repositoryNames.has(key(repo.name));
  }

  /** Repositories an installation token may see: its installation's, narrowed by the token's restriction. */
  reposForInstallationToken(token: FakeInstallationToken): ReadonlyArray<FakeRepo> {
    const installation = this.installations.get(token.installationId);
    if (!installation) return [];
    return this.reposOf(installation.accountLogin).filter(
      (repo) => this.installationCovers(installation, repo) && (token.repositoryNames === "all" || token.repositoryNames.includes(key(repo.name))),
    );
  }

  issueUserToken(login: string, scopes: ReadonlyArray<string>): FakeUserToken {
    const account = this.account(login);
    if (!account || account.type !== "User") throw new Error(`GitHub fake: no user ${login} to issue a token for`);
    const token: FakeUserToken = { token: newToken("gho_"), login: account.login, scopes: [...scopes], revoked: false };
    this.userTokens.set(token.token, token);
    return token;
  }

  issueInstallationToken(input: Omit<FakeInstallationToken, "token">): FakeInstallationToken {
    const token: FakeInstallationToken = { ...input, token: newToken("ghs_") };
    this.installationTokens.set(token.token, token);
    return token;
  }

  issueAuthCode(input: Omit<FakeAuthCode, "code" | "used">): FakeAuthCode {
    const code: FakeAuthCode = { ...input, code: randomBytes(10).toString("hex"), used: false };
    this.authCodes.set(code.code, code);
    return code;
  }
}

/** Splits a `scope` parameter ("repo user", "repo,user") into distinct scope names. */
export const parseScopes = (raw: string | null | undefined): ReadonlyArray<string> => [
  ...new Set((raw ?? "").split(/[\s,]+/).filter((scope) => scope !== "")),
];

/** Whether granted scopes include `scope`, counting `repo` as including `public_repo` (as GitHub does). */
export const hasScope = (granted: ReadonlyArray<string>, scope: string): boolean =>
  granted.includes(scope) || (scope === "public_repo" && granted.includes("repo"));
