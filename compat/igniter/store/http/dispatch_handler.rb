# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/http_adapter/dispatch_handler.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/http/dispatch_handler"` still works.
require "igniter/store/adapters"
