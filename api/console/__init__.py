"""The console: pages for people, served by `wastewatch api` under /console (server-rendered, every
asset from the package itself, no CDN: it works on a plant network without internet).

So far: logging in and out (`login`, `sessions`; the users are `api.users`'), the alert inbox and an
alert's page (`alerts`). Each page sends its own Content-Security-Policy: nothing loads from
anywhere but this server.
"""
