# frozen_string_literal: true

# Moved to lib/igniter/store/storage/wire_protocol.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/wire_protocol"` still works.
require "igniter/store/storage"
