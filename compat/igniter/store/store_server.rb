# frozen_string_literal: true

# Moved to lib/igniter/store/server/store_server.rb
# (loaded with the server layer);
# kept so that `require "igniter/store/store_server"` still works.
require "igniter/store/servers"
