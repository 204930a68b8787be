# frozen_string_literal: true

# Moved to lib/igniter/store/storage/postgres/schema.rb
# (loaded with the PostgresBackend);
# kept so that `require "igniter/store/postgres/schema"` still works.
require "igniter/store/storage/postgres_backend"
