# frozen_string_literal: true

# Moved to lib/igniter/store/feed/changefeed_buffer/subscription.rb
# (loaded with the feed layer);
# kept so that `require "igniter/store/changefeed/subscription"` still works.
require "igniter/store/feed"
