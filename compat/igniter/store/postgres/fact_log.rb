# frozen_string_literal: true

# Moved to lib/igniter/store/storage/postgres/fact_log.rb
# (loaded with the PostgresBackend);
# kept so that `require "igniter/store/postgres/fact_log"` still works.
require "igniter/store/storage/postgres_backend"
