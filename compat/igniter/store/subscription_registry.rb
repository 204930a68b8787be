# frozen_string_literal: true

# Moved to lib/igniter/store/feed/subscription_registry.rb
# (loaded with the feed layer);
# kept so that `require "igniter/store/subscription_registry"` still works.
require "igniter/store/feed"
