# frozen_string_literal: true

# Moved to lib/igniter/store/storage/postgres/commit_tail.rb
# (loaded with the PostgresBackend);
# kept so that `require "igniter/store/postgres/commit_tail"` still works.
require "igniter/store/storage/postgres_backend"
