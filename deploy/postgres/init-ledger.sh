#!/bin/sh
# Runs once, when the postgres container initialises an empty data directory
# (/docker-entrypoint-initdb.d). The events, the read models, the key store and the audit log get a
# database and a role each: the api, the projector and the relay connect as nrm_events, the api and
# the projector as nrm_read_models, only the api as nrm_keys, the api and the relay as nrm_audit, and
# no role can connect to another's database. Each role owns its database, so the ledger's own
# `CREATE SCHEMA IF NOT EXISTS` succeeds (PostgreSQL asks for CREATE on the database even when the
# schema exists).
set -eu
: "${NRM_EVENT_STORE_DB_PASSWORD:?}"
: "${NRM_READ_MODEL_DB_PASSWORD:?}"
: "${NRM_KEY_STORE_DB_PASSWORD:?}"
: "${NRM_AUDIT_LOG_DB_PASSWORD:?}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v events_password="$NRM_EVENT_STORE_DB_PASSWORD" \
  -v read_models_password="$NRM_READ_MODEL_DB_PASSWORD" \
  -v key_store_password="$NRM_KEY_STORE_DB_PASSWORD" \
  -v audit_log_password="$NRM_AUDIT_LOG_DB_PASSWORD" <<'SQL'
CREATE ROLE nrm_events LOGIN PASSWORD :'events_password';
CREATE ROLE nrm_read_models LOGIN PASSWORD :'read_models_password';
CREATE ROLE nrm_keys LOGIN PASSWORD :'key_store_password';
CREATE ROLE nrm_audit LOGIN PASSWORD :'audit_log_password';
CREATE DATABASE nrm_events OWNER nrm_events;
CREATE DATABASE nrm_read_models OWNER nrm_read_models;
CREATE DATABASE nrm_keys OWNER nrm_keys;
CREATE DATABASE nrm_audit OWNER nrm_audit;
REVOKE ALL ON DATABASE nrm_events FROM PUBLIC;
REVOKE ALL ON DATABASE nrm_read_models FROM PUBLIC;
REVOKE ALL ON DATABASE nrm_keys FROM PUBLIC;
REVOKE ALL ON DATABASE nrm_audit FROM PUBLIC;
\connect nrm_events
CREATE SCHEMA nrm_events AUTHORIZATION nrm_events;
\connect nrm_read_models
CREATE SCHEMA nrm_read_models AUTHORIZATION nrm_read_models;
\connect nrm_keys
CREATE SCHEMA nrm_keys AUTHORIZATION nrm_keys;
\connect nrm_audit
CREATE SCHEMA nrm_audit AUTHORIZATION nrm_audit;
SQL
