# frozen_string_literal: true

# Moved to lib/igniter/store/storage/postgres/connection.rb
# (loaded with the PostgresBackend);
# kept so that `require "igniter/store/postgres/connection"` still works.
require "igniter/store/storage/postgres_backend"
