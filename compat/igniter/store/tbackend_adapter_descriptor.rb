# frozen_string_literal: true

# Moved to lib/igniter/store/protocol/tbackend_adapter_descriptor.rb
# (loaded with the protocol layer);
# kept so that `require "igniter/store/tbackend_adapter_descriptor"` still works.
require "igniter/store/protocol"
