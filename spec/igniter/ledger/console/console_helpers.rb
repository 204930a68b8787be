# frozen_string_literal: true

require "rack/mock"
require "igniter/ledger/console"

module ConsoleSpec
  # A console over +store+ and Rack::MockRequest calls to it.
  module Helpers
    def console_for(store, **options)
      Igniter::Ledger::Console.new(store, **options)
    end

    def get(app, path, headers = {})
      Rack::MockRequest.new(app).get(path, headers)
    end

    def api(app, path, headers = {})
      response = get(app, path, headers)
      [response.status, JSON.parse(response.body, symbolize_names: true)]
    end

    # Reads SSE frames from a streaming Rack body in a thread until +count+
    # frames (not comments) arrived; returns them as {id:, event:, data:}.
    def read_frames(body, count, timeout: 5)
      frames = Queue.new
      reader = Thread.new do
        body.each do |chunk|
          next if chunk.start_with?(":")

          fields = chunk.lines.map(&:chomp).reject(&:empty?).to_h { |line| line.split(": ", 2) }
          frames << { id: fields["id"], event: fields["event"], data: JSON.parse(fields["data"], symbolize_names: true) }
        end
      end
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      out = []
      while out.size < count
        raise "only #{out.size} of #{count} SSE frames within #{timeout}s" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

        frames.empty? ? sleep(0.01) : out << frames.pop
      end
      out
    ensure
      body.close if body.respond_to?(:close)
      reader&.join(2)
    end
  end
end

RSpec.configure { |config| config.include ConsoleSpec::Helpers, :console }
