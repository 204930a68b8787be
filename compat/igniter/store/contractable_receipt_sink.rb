# frozen_string_literal: true

# Moved to lib/igniter/store/protocol/contractable_receipt_sink.rb
# (loaded with the protocol layer);
# kept so that `require "igniter/store/contractable_receipt_sink"` still works.
require "igniter/store/protocol"
