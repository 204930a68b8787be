# frozen_string_literal: true

# Moved to lib/igniter/store/storage/postgres/config.rb;
# kept so that `require "igniter/store/postgres/config"` still works.
require "igniter/store/storage/postgres/config"
