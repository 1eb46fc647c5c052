/**
 * What hosts that are not Exchange answer at `/EWS/Exchange.asmx`, for tests of "this is
 * not an EWS endpoint" detection:
 *
 * - `html`: a web login page with 200 for every request, as a reverse proxy or portal in
 *   front of a mail server answers.
 * - `not-found`: IIS's 404 page for everything.
 * - `sogo`: a mailcow host. Its nginx has no EWS location, so `/EWS/Exchange.asmx` falls
 *   through to a plain nginx 404 (`server_tokens off`) with mailcow's security headers;
 *   `/SOGo` redirects to `/SOGo/`, which is SOGo's login page; `/.well-known/caldav`
 *   redirects to `/SOGo/dav/`, and DAV asks for Basic credentials of realm "SOGo". These
 *   follow mailcow's nginx site template; the page bodies are abridged.
 *
 * @module
 */

/** The modes of the server: answering as Exchange, or as one of the hosts above. */
export type ServerMode = "exchange" | "html" | "not-found" | "sogo";

const LOGIN_PAGE = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in</title></head>
<body>
<form method="post" action="/auth/login">
<h1>Sign in to continue</h1>
<label>User name <input name="username"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button>
</form>
</body>
</html>
`;

const IIS_NOT_FOUND = `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" ` +
  `"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"/>
<title>404 - File or directory not found.</title>
</head>
<body>
<div id="header"><h1>Server Error</h1></div>
<div id="content">
 <div class="content-container"><fieldset>
  <h2>404 - File or directory not found.</h2>
  <h3>The resource you are looking for might have been removed, had its name changed, or is temporarily unavailable.</h3>
 </fieldset></div>
</div>
</body>
</html>
`;

const NGINX_NOT_FOUND = "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n" +
  "<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

const SOGO_LOGIN = `<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en">
<head>
<meta charset="utf-8"/>
<title>SOGo</title>
<meta name="description" content="SOGo Web Interface"/>
<link rel="stylesheet" type="text/css" href="/SOGo.woa/WebServerResources/css/styles.css"/>
</head>
<body class="popup" ng-app="SOGo.MainUI">
<main class="view layout-fill" ui-view="login"></main>
<script type="text/javascript" src="/SOGo.woa/WebServerResources/js/Main.js"></script>
</body>
</html>
`;

/** The headers mailcow's nginx adds to every answer. */
const MAILCOW_HEADERS = {
  "server": "nginx",
  "strict-transport-security": "max-age=15768000;",
  "x-content-type-options": "nosniff",
  "x-xss-protection": "1; mode=block",
  "x-robots-tag": "none",
  "x-download-options": "noopen",
  "x-frame-options": "SAMEORIGIN",
  "x-permitted-cross-domain-policies": "none",
  "referrer-policy": "strict-origin",
};

const html = "text/html; charset=utf-8";

function sogo(path: string): Response {
  const headers = (extra: Record<string, string>) => ({ ...MAILCOW_HEADERS, ...extra });
  if (path === "/SOGo") {
    return new Response(null, { status: 302, headers: headers({ location: "/SOGo/" }) });
  }
  if (/\/sogo$/i.test(path)) {
    return new Response(null, { status: 301, headers: headers({ location: "/SOGo" }) });
  }
  if (path === "/.well-known/caldav" || path === "/.well-known/carddav") {
    return new Response(null, { status: 301, headers: headers({ location: "/SOGo/dav/" }) });
  }
  if (path.startsWith("/SOGo/dav")) {
    return new Response(null, {
      status: 401,
      headers: headers({ "www-authenticate": 'Basic realm="SOGo"' }),
    });
  }
  if (path.startsWith("/SOGo/")) {
    return new Response(SOGO_LOGIN, { headers: headers({ "content-type": html }) });
  }
  return new Response(NGINX_NOT_FOUND, {
    status: 404,
    headers: headers({ "content-type": "text/html; charset=utf-8" }),
  });
}

/** The answer of a non-Exchange mode to any request. */
export function pageFor(mode: Exclude<ServerMode, "exchange">, path: string): Response {
  switch (mode) {
    case "html":
      return new Response(LOGIN_PAGE, { headers: { "content-type": html } });
    case "not-found":
      return iisNotFound();
    case "sogo":
      return sogo(path);
  }
}

/** IIS's 404, also what Exchange's server answers for paths it does not serve. */
export function iisNotFound(): Response {
  return new Response(IIS_NOT_FOUND, {
    status: 404,
    headers: { "content-type": "text/html", "server": "Microsoft-IIS/10.0" },
  });
}
