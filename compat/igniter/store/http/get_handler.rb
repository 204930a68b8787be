# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/http_adapter/get_handler.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/http/get_handler"` still works.
require "igniter/store/adapters"
