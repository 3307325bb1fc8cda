#!/usr/bin/env bash
# Wiredesk's roles in the postgres container (docker-compose.yml mounts this file into
# /docker-entrypoint-initdb.d, so it runs once, when the data volume is initialised, as the
# image's superuser; the entrypoint has PGPASSWORD set for it):
#   wiredesk       LOGIN CREATEROLE, owns the database `wiredesk`: runs migrations
#   wiredesk_app   LOGIN only: what the server and the CLI use; migrations grant it what it may do
# Passwords come from WIREDESK_OWNER_PASSWORD and WIREDESK_APP_PASSWORD; they are read by psql
# itself (\getenv), so they appear in no command line.
: "${WIREDESK_OWNER_PASSWORD:?set WIREDESK_OWNER_PASSWORD for the wiredesk role}"
: "${WIREDESK_APP_PASSWORD:?set WIREDESK_APP_PASSWORD for the wiredesk_app role}"
psql -X -q -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres <<'SQL'
\getenv owner_password WIREDESK_OWNER_PASSWORD
\getenv app_password WIREDESK_APP_PASSWORD
SET password_encryption = 'scram-sha-256';
CREATE ROLE wiredesk LOGIN CREATEROLE PASSWORD :'owner_password';
CREATE ROLE wiredesk_app LOGIN PASSWORD :'app_password';
CREATE DATABASE wiredesk OWNER wiredesk;
REVOKE CREATE ON DATABASE wiredesk FROM PUBLIC;
SQL
