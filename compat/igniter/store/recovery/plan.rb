# frozen_string_literal: true

# Moved to lib/igniter/store/storage/recovery/plan.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/recovery/plan"` still works.
require "igniter/store/storage"
