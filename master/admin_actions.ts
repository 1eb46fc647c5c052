/**
 * What an admin can do, once: the JSON admin API and the management page both call these,
 * so a removal notifies the sync engine and is logged the same way whichever was used.
 * Each answers null (or false) when its subject does not exist.
 *
 * @module
 */
import { toInstant } from "../shared/time.ts";
import type { AppContext } from "./context.ts";
import { hashToken, newToken } from "./secrets.ts";
import type { CredentialKind, CredentialRecord } from "./store/types.ts";

/** A credential just issued, with its secret: shown once, never stored in the clear. */
export type IssuedCredential = { record: CredentialRecord; token: string };

/** Clears an agent's token so that it may enrol again with the enrollment token. */
export async function resetAgent(ctx: AppContext, agentId: string): Promise<boolean> {
  if (!(await ctx.store.resetAgentToken(agentId))) return false;
  ctx.logger.log("info", `agent '${agentId}' reset by an admin; it may enrol again`);
  return true;
}

/** Removes an agent with its sources; their items leave the destinations. */
export async function removeAgent(ctx: AppContext, agentId: string): Promise<boolean> {
  if (!(await ctx.store.removeAgent(agentId))) return false;
  ctx.logger.log("info", `agent '${agentId}' removed by an admin with its sources`);
  ctx.sync.notifyChanged("removal");
  return true;
}

/** Removes one source of an agent; its items leave the destinations. */
export async function removeSource(
  ctx: AppContext,
  agentId: string,
  sourceId: string,
): Promise<boolean> {
  if (!(await ctx.store.removeSource(agentId, sourceId))) return false;
  ctx.logger.log("info", `source '${sourceId}' of agent '${agentId}' removed by an admin`);
  ctx.sync.notifyChanged("removal");
  return true;
}

/** Issues a feed or read token named `name`. */
export async function issueCredential(
  ctx: AppContext,
  kind: Exclude<CredentialKind, "session">,
  name: string,
): Promise<IssuedCredential> {
  const token = newToken();
  const record: CredentialRecord = {
    credential_id: crypto.randomUUID(),
    kind,
    name,
    token_hash: hashToken(token),
    created_at: toInstant(ctx.now()),
    expires_at: null,
  };
  await ctx.store.createCredential(record);
  ctx.logger.log("info", `${kind} token ${record.credential_id} (${name}) created`);
  return { record, token };
}

/** Revokes a feed or read token. */
export async function revokeCredential(
  ctx: AppContext,
  kind: Exclude<CredentialKind, "session">,
  credentialId: string,
): Promise<boolean> {
  if (!(await ctx.store.deleteCredential(kind, credentialId))) return false;
  ctx.logger.log("info", `${kind} token ${credentialId} revoked`);
  return true;
}
