# frozen_string_literal: true

# Moved to lib/igniter/store/storage/codecs.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/codecs"` still works.
require "igniter/store/storage"
