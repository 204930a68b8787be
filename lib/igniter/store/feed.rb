# frozen_string_literal: true

# Layer 3, feed: what leaves the engine as facts are written. ChangeEvent,
# the ChangefeedBuffer (bounded fan-out to subscribers), the legacy
# synchronous SubscriptionRegistry and the EventRing of recent events.
require_relative "core"
require_relative "feed/subscription_registry"
require_relative "feed/change_event"
require_relative "feed/changefeed_buffer"
require_relative "feed/event_ring"
