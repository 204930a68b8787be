# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/http_adapter/open_api_handler.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/adapters/http/open_api_handler"` still works.
require "igniter/store/adapters"
