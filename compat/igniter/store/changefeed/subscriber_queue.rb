# frozen_string_literal: true

# Moved to lib/igniter/store/feed/changefeed_buffer/subscriber_queue.rb
# (loaded with the feed layer);
# kept so that `require "igniter/store/changefeed/subscriber_queue"` still works.
require "igniter/store/feed"
