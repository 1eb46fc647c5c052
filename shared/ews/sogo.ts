/**
 * Recognising mailcow/SOGo behind a URL configured as EWS. mailcow never offered EWS;
 * its groupware answers CalDAV, and the error should say where.
 *
 * @module
 */
import type { HttpAnswer } from "./errors.ts";

/** Fetches a URL without credentials; any failure means "no evidence". */
export type Probe = (url: string) => Promise<HttpAnswer>;

/** Whether an answer names SOGo or mailcow in its body or its headers. */
function mentionsSogo(answer: HttpAnswer): boolean {
  const text = [answer.body, answer.headers["server"], answer.headers["location"]].join("\n");
  return /\bSOGo\b|mailcow/i.test(text);
}

/**
 * The CalDAV URL of the user's personal calendar when the host looks like mailcow/SOGo,
 * else null. The answer already seen is checked first; only when it says nothing is the
 * host asked, once and cheaply, whether `/SOGo/` exists.
 *
 * mailcow logs users in by e-mail address, so a user name with `@` fills in the URL;
 * any other name leaves `USER` for the user to replace.
 */
export async function sogoCalDavUrl(
  answer: HttpAnswer,
  url: string,
  username: string,
  probe: Probe,
): Promise<string | null> {
  const origin = new URL(url).origin;
  const user = /^[^@\s/\\]+@[^@\s/\\]+$/.test(username) ? username : "USER";
  const calDav = `${origin}/SOGo/dav/${user}/Calendar/personal/`;
  if (mentionsSogo(answer)) return calDav;
  try {
    const sogo = await probe(`${origin}/SOGo/`);
    return sogo.status < 400 && mentionsSogo(sogo) ? calDav : null;
  } catch {
    return null;
  }
}
