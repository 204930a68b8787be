# frozen_string_literal: true

# Moved to lib/igniter/store/storage/postgres/rows.rb
# (loaded with the PostgresBackend);
# kept so that `require "igniter/store/postgres/rows"` still works.
require "igniter/store/storage/postgres_backend"
