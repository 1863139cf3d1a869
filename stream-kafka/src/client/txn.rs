//! Transactions (KIP-98): finding a transactional id's coordinator, getting a producer id (which
//! fences earlier users of the id and aborts their open transaction), adding partitions to the
//! open transaction, and ending it. `end_txn` needs only the id, the producer id and the epoch,
//! so the driver can commit a transaction that a worker opened.

use super::produce::{fenced_hint, Producer};
use super::{version, Client, KResult, KafkaError, TopicPartition};
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::{
    AddPartitionsToTxnRequest, EndTxnRequest, FindCoordinatorRequest, InitProducerIdRequest,
    ProducerId, TopicName, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;

/// A transaction a worker wrote and the driver may commit: all `end_txn` needs.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TxnHandle {
    /// The transactional id.
    pub transactional_id: String,
    /// Its producer id.
    pub producer_id: i64,
    /// Its epoch.
    pub epoch: i16,
}

/// How ending a transaction turned out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnOutcome {
    /// Committed (now, or already by an earlier try).
    Committed,
    /// The broker had aborted it (a newer epoch fenced it, or it timed out).
    Aborted,
}

fn tid(id: &str) -> TransactionalId {
    TransactionalId(StrBytes::from_string(id.to_string()))
}

impl Client {
    /// The node of the coordinator of `transactional_id`.
    fn coordinator(&mut self, transactional_id: &str) -> KResult<i32> {
        let req = FindCoordinatorRequest::default()
            .with_key(StrBytes::from_string(transactional_id.to_string()))
            .with_key_type(1);
        let resp = self.send_any(&req, version::FIND_COORDINATOR)?;
        let context = format!("finding the coordinator of transactional id `{transactional_id}`");
        if let Some(e) = KafkaError::broker(resp.error_code, context) {
            return Err(e);
        }
        let node = resp.node_id.0;
        self.remember_broker(node, format!("{}:{}", resp.host.as_str(), resp.port));
        Ok(node)
    }

    /// A producer id and epoch: for a transactional id, from its coordinator, which bumps the
    /// epoch (fencing earlier producers with the id) and aborts their open transaction; for
    /// none, a fresh id for an idempotent producer.
    pub(crate) fn init_producer_id(
        &mut self,
        transactional_id: Option<&str>,
    ) -> KResult<(i64, i16)> {
        let what = || format!("initialising a producer (transactional id {transactional_id:?})");
        let timeout = self.config.transaction_timeout.as_millis() as i32;
        self.retry(&what, |c| {
            let node = match transactional_id {
                Some(t) => c.coordinator(t)?,
                None => c.any_node()?,
            };
            let req = InitProducerIdRequest::default()
                .with_transactional_id(transactional_id.map(tid))
                .with_transaction_timeout_ms(timeout)
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1);
            let resp = c.send(node, &req, version::INIT_PRODUCER_ID)?;
            let context = format!("initialising producer {transactional_id:?}");
            if let Some(e) = KafkaError::broker(resp.error_code, context) {
                return Err(e);
            }
            Ok((resp.producer_id.0, resp.producer_epoch))
        })
    }

    /// Adds `partitions` to the producer's open transaction (it begins with the first).
    pub(crate) fn add_partitions_to_txn(
        &mut self,
        producer: &Producer,
        partitions: &[TopicPartition],
    ) -> KResult<()> {
        let id = producer
            .transactional_id
            .clone()
            .expect("a transactional producer");
        let what = || {
            format!(
                "adding {} partitions to transaction `{id}`",
                partitions.len()
            )
        };
        let (pid, epoch) = (producer.producer_id, producer.epoch);
        self.retry(&what, |c| {
            let node = c.coordinator(&id)?;
            let topics = super::fetch::by_topic(partitions)
                .into_iter()
                .map(|(t, ps)| {
                    AddPartitionsToTxnTopic::default()
                        .with_name(TopicName(StrBytes::from_string(t.to_string())))
                        .with_partitions(ps)
                })
                .collect();
            let req = AddPartitionsToTxnRequest::default()
                .with_v3_and_below_transactional_id(tid(&id))
                .with_v3_and_below_producer_id(ProducerId(pid))
                .with_v3_and_below_producer_epoch(epoch)
                .with_v3_and_below_topics(topics);
            let resp = c.send(node, &req, version::ADD_PARTITIONS_TO_TXN)?;
            let context = format!("adding partitions to transaction `{id}`");
            if let Some(e) = KafkaError::broker(resp.error_code, context.clone()) {
                return Err(e);
            }
            for t in &resp.results_by_topic_v3_and_below {
                for p in &t.results_by_partition {
                    let code = p.partition_error_code;
                    // Set on every partition when another one failed.
                    if code == ResponseError::OperationNotAttempted.code() {
                        continue;
                    }
                    if let Some(error) = ResponseError::try_from_code(code) {
                        return Err(KafkaError::Broker {
                            error,
                            context: format!(
                                "{context}, topic `{}` partition {}{}",
                                t.name.0.as_str(),
                                p.partition_index,
                                fenced_hint(error)
                            ),
                        });
                    }
                }
            }
            Ok(())
        })
    }

    /// Commits (or aborts) the transaction `txn`. A commit that an earlier try already made is
    /// a commit; one the broker aborted meanwhile is [`TxnOutcome::Aborted`].
    pub fn end_txn(&mut self, txn: &TxnHandle, commit: bool) -> KResult<TxnOutcome> {
        let id = &txn.transactional_id;
        let what = || format!("ending transaction `{id}` (commit: {commit})");
        self.retry(&what, |c| {
            let node = c.coordinator(id)?;
            let req = EndTxnRequest::default()
                .with_transactional_id(tid(id))
                .with_producer_id(ProducerId(txn.producer_id))
                .with_producer_epoch(txn.epoch)
                .with_committed(commit);
            let resp = c.send(node, &req, version::END_TXN)?;
            match ResponseError::try_from_code(resp.error_code) {
                None => Ok(TxnOutcome::Committed),
                Some(
                    ResponseError::ProducerFenced
                    | ResponseError::InvalidProducerEpoch
                    | ResponseError::InvalidTxnState,
                ) => Ok(TxnOutcome::Aborted),
                Some(error) => Err(KafkaError::Broker {
                    error,
                    context: format!("ending transaction `{id}`"),
                }),
            }
        })
    }
}
