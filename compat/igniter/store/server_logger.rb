# frozen_string_literal: true

# Moved to lib/igniter/store/server/server_logger.rb
# (loaded with the server layer);
# kept so that `require "igniter/store/server_logger"` still works.
require "igniter/store/servers"
