/**
 * The tenant as Entra ID and Exchange Online see it: app registrations (client secrets,
 * certificates, granted application permissions), application access policies, and the
 * users whose mailboxes exist.
 *
 * @module
 */
import { accessDenied, blockedByPolicy, invalidUser } from "./errors.ts";

/** The application permissions (app roles) of Microsoft Graph that the stand-in checks. */
export type AppPermission =
  | "Calendars.Read"
  | "Calendars.ReadWrite"
  | "MailboxSettings.Read"
  | "MailboxSettings.ReadWrite";

/**
 * An application access policy (New-ApplicationAccessPolicy): `RestrictAccess` lets the app
 * reach only the listed mailboxes, `DenyAccess` every mailbox but them.
 */
export interface AccessPolicy {
  accessRight: "RestrictAccess" | "DenyAccess";
  mailboxes: string[];
}

/** An app registration. */
export interface AppRegistration {
  /** The application (client) id. */
  clientId: string;
  /** Client secrets (values) the app may present. */
  secrets: string[];
  /** Public keys of uploaded certificates, for `client_assertion` (RS256) checks. */
  certificates: CryptoKey[];
  /** Application permissions granted with admin consent. */
  permissions: AppPermission[];
  /** Null when no policy restricts the app. */
  accessPolicy: AccessPolicy | null;
}

/** What an access token carries. */
export interface TokenGrant {
  tenant: string;
  clientId: string;
  roles: AppPermission[];
  expiresAtMs: number;
}

/** One tenant: its apps and its users (lower-cased UPN → object id). */
export class Directory {
  readonly apps = new Map<string, AppRegistration>();
  readonly users = new Map<string, string>();

  constructor(readonly tenantId: string, readonly domains: string[]) {}

  /** Whether `tenant` (its id or one of its domains) names this tenant. */
  isTenant(tenant: string): boolean {
    const name = tenant.toLowerCase();
    return name === this.tenantId || this.domains.includes(name);
  }

  /** Adds a user; returns its object id. */
  addUser(upn: string): string {
    const id = `6e7b768e-07e2-4810-8459-${String(this.users.size + 1).padStart(12, "0")}`;
    this.users.set(upn.toLowerCase(), id);
    return id;
  }

  /** The UPN of a user named by UPN or object id, as `/users/{id | userPrincipalName}` allows. */
  resolve(key: string): string | null {
    const name = key.toLowerCase();
    if (this.users.has(name)) return name;
    for (const [upn, id] of this.users) if (id === name) return upn;
    return null;
  }

  /**
   * The checks Graph makes before touching a mailbox, in its order: the user exists, the app
   * holds one of the permissions, the access policy lets it in. Returns the user's UPN.
   */
  authorize(grant: TokenGrant, key: string, anyOf: AppPermission[]): string {
    const user = this.resolve(key);
    if (user === null) throw invalidUser(key);
    if (!anyOf.some((permission) => grant.roles.includes(permission))) throw accessDenied();
    const policy = this.apps.get(grant.clientId)?.accessPolicy;
    if (policy) {
      const listed = policy.mailboxes.map((m) => m.toLowerCase()).includes(user);
      if (listed !== (policy.accessRight === "RestrictAccess")) throw blockedByPolicy();
    }
    return user;
  }
}
