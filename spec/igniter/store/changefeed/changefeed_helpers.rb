# frozen_string_literal: true

# Helpers shared by the changefeed specs: they wait on conditions (polling
# every millisecond up to a bound) instead of sleeping a fixed time.
module ChangefeedSpecHelpers
  # Polls until the block is truthy; fails the example after +timeout+ s.
  # @return [Object] the block's truthy value
  def wait_until(timeout: 3.0, message: "condition")
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    loop do
      result = yield
      return result if result
      raise "#{message} not met within #{timeout}s" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep 0.001
    end
  end

  # A handler-side collector that is safe to read from the spec thread.
  class Collector
    def initialize
      @items = []
      @mutex = Mutex.new
    end

    def <<(item)
      @mutex.synchronize { @items << item }
      self
    end

    def items
      @mutex.synchronize { @items.dup }
    end

    def size
      @mutex.synchronize { @items.size }
    end
  end

  def collector
    Collector.new
  end

  # The record behind a Subscription (0.5.2's specs read it the same way).
  def record_of(subscription)
    subscription.instance_variable_get(:@record)
  end

  def monotonic_now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end
end

RSpec.configure do |config|
  config.include ChangefeedSpecHelpers, changefeed: true
end
