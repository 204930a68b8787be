# frozen_string_literal: true

# A stand-in for igniter-ledger-client's LedgerClient (an external package):
# every call goes through a recording transport to an engine's protocol
# interpreter, and results come back as client result objects — a write
# result answering accepted?, a read result answering found?/value, a replay
# result holding fact packets. It has no history/history_partition, so the
# sink must reconstruct events and observations from replay.
module ReceiptSinkClient
  ReadResult = Struct.new(:value, :found) do
    def found? = found
  end
  ReplayResult = Struct.new(:facts)

  # Records [op, packet] per request; refuses ops outside +answers+.
  class RecordingTransport
    attr_reader :requests

    def initialize(protocol, answers: nil)
      @protocol = protocol
      @answers = answers
      @requests = []
    end

    def request(op, packet)
      @requests << [op, packet]
      raise ArgumentError, "transport does not answer #{op.inspect}" if @answers && !@answers.include?(op)

      case op
      when :register_descriptor then @protocol.register(packet)
      when :write then @protocol.write(**packet)
      when :append then @protocol.append(**packet)
      when :read then @protocol.read(**packet)
      when :replay then @protocol.replay(filter: packet)
      else raise ArgumentError, "unknown op #{op.inspect}"
      end
    end

    def ops = requests.map(&:first)
  end

  class LedgerClient
    attr_reader :transport

    def initialize(transport)
      @transport = transport
    end

    def register_descriptor(**packet) = transport.request(:register_descriptor, packet)
    def write(**packet) = transport.request(:write, packet)
    def append(**packet) = transport.request(:append, packet)

    def read(store:, key:)
      value = transport.request(:read, { store: store, key: key })
      ReadResult.new(value, !value.nil?)
    end

    def replay(store:)
      ReplayResult.new(transport.request(:replay, { store: store }))
    end
  end

  def self.over(engine, answers: nil)
    LedgerClient.new(RecordingTransport.new(engine.protocol, answers: answers))
  end
end
