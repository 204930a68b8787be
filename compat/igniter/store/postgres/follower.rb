# frozen_string_literal: true

# Moved to lib/igniter/store/storage/postgres/follower.rb;
# kept so that `require "igniter/store/postgres/follower"` still works.
require "igniter/store/storage/postgres/follower"
