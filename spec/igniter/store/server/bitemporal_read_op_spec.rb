# frozen_string_literal: true

require "net/http"

# The `read` op's `valid_at` (doc/bitemporal.md) on a running server, over
# the framed TCP envelope transport and over HTTP (`POST /v1/dispatch`):
# every read case of the table answers as the engine does.
RSpec.describe "Bitemporal reads over the protocol", :servers do
  include LedgerSpec::AdapterHelpers

  let(:server) do
    build_server.tap do |s|
      s.start_adapters(http_port: 0, tcp_port: 0)
      s.start_async
    end
  end
  let(:names) { BitemporalTable.write(server.store) }

  def packet(as_of, valid_at)
    { store: "prices", key: "p1", as_of: as_of && names.fetch(as_of), valid_at: valid_at && names.fetch(valid_at) }.compact
  end

  it "answers every read of the table over HTTP" do
    port = port_of(server.http_adapter.bind_address)
    BitemporalTable::READS.each do |as_of, valid_at, expected|
      response = http_post_json(port, "/v1/dispatch", envelope(:read, packet(as_of, valid_at)))
      expect(response.code).to eq("200")
      expect(JSON.parse(response.body)["result"]).to eq("value" => expected, "found" => !expected.nil?),
                                                     "as_of #{as_of.inspect} valid_at #{valid_at.inspect}"
    end
  end

  it "answers every read of the table over the TCP envelope transport" do
    socket = tcp_connect(server.tcp_adapter)
    BitemporalTable::READS.each do |as_of, valid_at, expected|
      reply = tcp_call(socket, envelope(:read, packet(as_of, valid_at)))
      expect(reply["result"]).to eq("value" => expected, "found" => !expected.nil?),
                                 "as_of #{as_of.inspect} valid_at #{valid_at.inspect}"
    end
  ensure
    socket&.close
  end

  it "answers time_travel (at, valid_at) over HTTP as the read of the table as of at, in seconds or ISO-8601" do
    port = port_of(server.http_adapter.bind_address)
    rows = BitemporalTable::READS.reject { |as_of, _valid_at, _expected| as_of.nil? }
    expect(rows.size).to be >= 10
    rows.each do |as_of, valid_at, expected|
      at = names.fetch(as_of)
      [at, Igniter::Store::Protocol::TimeParam.iso8601(at)].each do |given|
        travel = { store: "prices", key: "p1", at: given, valid_at: valid_at && names.fetch(valid_at) }.compact
        response = http_post_json(port, "/v1/dispatch", envelope(:time_travel, travel))
        expect([response.code, JSON.parse(response.body)["result"]]).to eq(["200", { "value" => expected, "found" => !expected.nil? }]),
                                                                          "at #{as_of.inspect} valid_at #{valid_at.inspect}"
      end
    end
    missing = http_post_json(port, "/v1/dispatch", envelope(:time_travel, { store: "prices", key: "p1" }))
    expect([missing.code, JSON.parse(missing.body)["error"]]).to eq(["422", 'time_travel: the packet lacks the required field "at"'])
  end

  it "refuses a valid_at that is not a time as an invalid packet, naming it" do
    names
    port = port_of(server.http_adapter.bind_address)
    response = http_post_json(port, "/v1/dispatch", envelope(:read, { store: "prices", key: "p1", valid_at: true }))
    body = JSON.parse(response.body)
    expect(body["status"]).to eq("error")
    expect(body["error"]).to include("valid_at must be seconds since the epoch")
  end
end
