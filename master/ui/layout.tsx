/**
 * The frame of every management page: head, top bar and sign-out form.
 *
 * @module
 */
import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import { VERSION } from "../../shared/version.ts";

/** Props of {@link Page}. */
export type PageProps = {
  title: string;
  /** The CSRF token of a signed-in session; null on pages seen signed out. */
  csrf: string | null;
  /** Automatic reloads of pages that show live state: every `seconds`, to `url`. */
  refresh?: { seconds: number; url: string };
  children?: Child;
};

/** A whole HTML document. */
export function Page({ title, csrf, refresh, children }: PageProps) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          {refresh
            ? <meta http-equiv="refresh" content={`${refresh.seconds}; url=${refresh.url}`} />
            : null}
          <title>{title} · calsync</title>
          <link rel="stylesheet" href="/static/style.css" />
        </head>
        <body>
          <header>
            <a class="brand" href="/">calsync</a>
            <nav>
              {csrf ? <a href="/">Dashboard</a> : null}
              <a href="/docs">API</a>
              <span class="muted">v{VERSION}</span>
            </nav>
            {csrf
              ? (
                <form method="post" action="/logout">
                  <input type="hidden" name="csrf" value={csrf} />
                  <button type="submit">Sign out</button>
                </form>
              )
              : null}
          </header>
          <main>{children}</main>
        </body>
      </html>
    </>
  );
}

/** A hidden field with the session's CSRF token, for every form that changes something. */
export function CsrfField({ csrf }: { csrf: string }) {
  return <input type="hidden" name="csrf" value={csrf} />;
}
