//! One TCP connection to one broker: Kafka's framing (a 4-byte size, a request header with a
//! correlation id, the body) over a blocking socket with timeouts. Requests and responses are
//! `kafka-protocol`'s generated messages.

use super::KafkaError;
use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{self as m, ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// A request this client sends, with its response (`kafka-protocol` implements its own
/// `Request` trait only with its broker-side feature, which this client does not need).
pub(crate) trait Request: Encodable + HeaderVersion {
    /// The request's API key.
    const KEY: ApiKey;
    /// Its response.
    type Response: Decodable + HeaderVersion;
}

macro_rules! requests {
    ($($req:ident => $resp:ident, $key:ident;)*) => {$(
        impl Request for m::$req {
            const KEY: ApiKey = ApiKey::$key;
            type Response = m::$resp;
        }
    )*};
}

requests! {
    ApiVersionsRequest => ApiVersionsResponse, ApiVersions;
    MetadataRequest => MetadataResponse, Metadata;
    ListOffsetsRequest => ListOffsetsResponse, ListOffsets;
    FetchRequest => FetchResponse, Fetch;
    ProduceRequest => ProduceResponse, Produce;
    FindCoordinatorRequest => FindCoordinatorResponse, FindCoordinator;
    InitProducerIdRequest => InitProducerIdResponse, InitProducerId;
    AddPartitionsToTxnRequest => AddPartitionsToTxnResponse, AddPartitionsToTxn;
    EndTxnRequest => EndTxnResponse, EndTxn;
    CreateTopicsRequest => CreateTopicsResponse, CreateTopics;
    DeleteTopicsRequest => DeleteTopicsResponse, DeleteTopics;
    DeleteRecordsRequest => DeleteRecordsResponse, DeleteRecords;
}

/// A connection to one broker.
pub(crate) struct Conn {
    /// `host:port`, for messages.
    pub addr: String,
    stream: TcpStream,
    next_correlation: i32,
    client_id: StrBytes,
    out: BytesMut,
}

impl Conn {
    /// Connects to `addr` within `timeout`; requests then wait at most `timeout` for their
    /// response.
    pub fn connect(addr: &str, client_id: &str, timeout: Duration) -> Result<Conn, KafkaError> {
        let io = |e: std::io::Error| KafkaError::Io {
            addr: addr.to_string(),
            error: e.to_string(),
        };
        let mut last = None;
        let addrs = addr.to_socket_addrs().map_err(io)?;
        for sock in addrs {
            match TcpStream::connect_timeout(&sock, timeout) {
                Ok(stream) => {
                    stream.set_nodelay(true).map_err(io)?;
                    stream.set_read_timeout(Some(timeout)).map_err(io)?;
                    stream.set_write_timeout(Some(timeout)).map_err(io)?;
                    return Ok(Conn {
                        addr: addr.to_string(),
                        stream,
                        next_correlation: 1,
                        client_id: StrBytes::from_string(client_id.to_string()),
                        out: BytesMut::with_capacity(1 << 16),
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(io(last.unwrap_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no address")
        })))
    }

    /// Sends `req` at `version` and waits for its response.
    pub fn call<R: Request>(&mut self, req: &R, version: i16) -> Result<R::Response, KafkaError> {
        let key = R::KEY;
        let correlation = self.next_correlation;
        self.next_correlation = self.next_correlation.wrapping_add(1);
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY as i16)
            .with_request_api_version(version)
            .with_correlation_id(correlation)
            .with_client_id(Some(self.client_id.clone()));
        self.out.clear();
        self.out.extend_from_slice(&[0; 4]);
        let encoded = header
            .encode(&mut self.out, R::header_version(version))
            .and_then(|()| req.encode(&mut self.out, version));
        if let Err(e) = encoded {
            return Err(self.protocol(&format!("cannot encode a {key:?} request: {e}")));
        }
        let size = (self.out.len() - 4) as i32;
        self.out[..4].copy_from_slice(&size.to_be_bytes());
        let io = |e: std::io::Error, addr: &str| KafkaError::Io {
            addr: addr.to_string(),
            error: e.to_string(),
        };
        self.stream
            .write_all(&self.out)
            .map_err(|e| io(e, &self.addr))?;
        let mut len = [0u8; 4];
        self.stream
            .read_exact(&mut len)
            .map_err(|e| io(e, &self.addr))?;
        let len = i32::from_be_bytes(len);
        if len < 0 {
            return Err(self.protocol(&format!("a response of negative size {len}")));
        }
        let mut body = BytesMut::zeroed(len as usize);
        self.stream
            .read_exact(&mut body)
            .map_err(|e| io(e, &self.addr))?;
        let mut body: Bytes = body.freeze();
        let response_header_version = R::Response::header_version(version);
        let header = ResponseHeader::decode(&mut body, response_header_version)
            .map_err(|e| self.protocol(&format!("a malformed {key:?} response header: {e}")))?;
        if header.correlation_id != correlation {
            return Err(self.protocol(&format!(
                "a response to request {} where {correlation} was expected",
                header.correlation_id
            )));
        }
        let response = R::Response::decode(&mut body, version)
            .map_err(|e| self.protocol(&format!("a malformed {key:?} response: {e}")))?;
        if body.has_remaining() {
            return Err(self.protocol(&format!(
                "{} bytes left after a {key:?} response",
                body.remaining()
            )));
        }
        Ok(response)
    }

    fn protocol(&self, what: &str) -> KafkaError {
        KafkaError::Protocol(format!("broker {}: {what}", self.addr))
    }
}
