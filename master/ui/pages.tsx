/**
 * The small pages of the management site: sign-in, the confirmation every action asks
 * for, a just-issued secret, and errors.
 *
 * @module
 */
import type { Child } from "hono/jsx";
import { CsrfField, Page } from "./layout.tsx";

/** The sign-in form; `error` explains why the last attempt failed. */
export function LoginPage({ error }: { error?: string }) {
  return (
    <Page title="Sign in" csrf={null}>
      <section class="narrow">
        <h1>Sign in to calsync</h1>
        {error ? <p class="alert" role="alert">{error}</p> : null}
        <form method="post" action="/login">
          <p>
            <label>
              Admin token<br />
              <input
                type="password"
                name="token"
                autocomplete="current-password"
                required
                size={40}
                autofocus
              />
            </label>
          </p>
          <p class="muted">
            The admin token is <code>ADMIN_TOKEN</code>, or the one the master generated into{" "}
            <code>DATA_DIR/admin_token</code> at its first start.
          </p>
          <button type="submit" class="primary">Sign in</button>
        </form>
      </section>
    </Page>
  );
}

/** Props of {@link ConfirmPage}. */
export type ConfirmProps = {
  csrf: string;
  title: string;
  /** What will happen, in plain words. */
  children: Child;
  /** Where the form posts to. */
  action: string;
  button: string;
  danger?: boolean;
  /** Extra form fields, such as the name of a token to create. */
  fields?: Record<string, string>;
};

/** Asks before an action; the action runs only when this form is posted. */
export function ConfirmPage(p: ConfirmProps) {
  return (
    <Page title={p.title} csrf={p.csrf}>
      <section class="narrow">
        <h1>{p.title}</h1>
        <div>{p.children}</div>
        <form method="post" action={p.action} class="actions">
          <CsrfField csrf={p.csrf} />
          {Object.entries(p.fields ?? {}).map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
          <button type="submit" class={p.danger ? "danger" : "primary"}>{p.button}</button>
          <a class="button" href="/">Cancel</a>
        </form>
      </section>
    </Page>
  );
}

/** Shows a secret once, right after it was issued. */
export function IssuedPage(
  { csrf, title, secret, children }: {
    csrf: string;
    title: string;
    secret: string;
    children: Child;
  },
) {
  return (
    <Page title={title} csrf={csrf}>
      <section class="narrow">
        <h1>{title}</h1>
        <p class="notice">Copy it now: it is shown only this once and stored only hashed.</p>
        <code class="secret" id="secret">{secret}</code>
        <div>{children}</div>
        <p>
          <a class="button primary" href="/">Back to the dashboard</a>
        </p>
      </section>
    </Page>
  );
}

/** An error page: what went wrong and where to go from here. */
export function MessagePage(
  { csrf, title, message }: { csrf: string | null; title: string; message: string },
) {
  return (
    <Page title={title} csrf={csrf}>
      <section class="narrow">
        <h1>{title}</h1>
        <p class="alert" role="alert">{message}</p>
        <p>
          <a class="button" href="/">Back to the dashboard</a>
        </p>
      </section>
    </Page>
  );
}
