# frozen_string_literal: true

# Moved to lib/igniter/store/storage/codecs/message_pack.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/codecs/message_pack"` still works.
require "igniter/store/storage"
