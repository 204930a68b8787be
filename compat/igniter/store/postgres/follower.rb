# frozen_string_literal: true

# Moved to lib/igniter/store/storage/postgres/follower.rb
# (loaded with the PostgresBackend);
# kept so that `require "igniter/store/postgres/follower"` still works.
require "igniter/store/storage/postgres_backend"
