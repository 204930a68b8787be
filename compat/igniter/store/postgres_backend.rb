# frozen_string_literal: true

# Moved to lib/igniter/store/storage/postgres_backend.rb;
# kept so that `require "igniter/store/postgres_backend"` still works.
require "igniter/store/storage/postgres_backend"
