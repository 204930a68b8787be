# frozen_string_literal: true

require "net/http"

module LedgerSpec
  # A real HTTP client (Net::HTTP) reading `GET /v1/events` (SSE).
  module SseClient
    # Reads SSE frames from GET /v1/events with +headers+ until +count+
    # arrived (then the client disconnects); yields once the stream is open.
    def sse_read(port, count, headers = {})
      frames = Queue.new
      opened = Queue.new
      reader = Thread.new do
        Net::HTTP.start("127.0.0.1", port, open_timeout: 2, read_timeout: 5) do |http|
          http.request(Net::HTTP::Get.new("/v1/events", headers)) do |response|
            opened << response.code
            text = +""
            response.read_body do |chunk|
              text << chunk
              blocks = text.split("\n\n", -1)
              text = blocks.pop || +""
              blocks.each { |block| frames << block unless block.start_with?(":") }
              raise StopIteration if frames.size >= count # leaves Net::HTTP.start, which closes the socket
            end
          end
        end
      rescue StopIteration
        nil
      end
      expect(pop_within(opened, 5)).to eq("200")
      yield if block_given?
      out = Array.new(count) { pop_within(frames, 5) }
      reader.join(5)
      sse_frames(out.compact.join("\n\n"))
    end

    # @return [Array(String, Hash)] status code and JSON body of a refused `GET /v1/events`
    def sse_refusal(port, headers)
      Net::HTTP.start("127.0.0.1", port, open_timeout: 2, read_timeout: 5) do |http|
        response = http.get("/v1/events", headers)
        [response.code, JSON.parse(response.body)]
      end
    end
  end
end

RSpec.configure { |config| config.include LedgerSpec::SseClient }
