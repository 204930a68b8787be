# frozen_string_literal: true

# Moved to lib/igniter/store/storage/postgres/wakeup.rb
# (loaded with the PostgresBackend);
# kept so that `require "igniter/store/postgres/wakeup"` still works.
require "igniter/store/storage/postgres_backend"
