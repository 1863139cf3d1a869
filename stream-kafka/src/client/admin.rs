//! Administration: creating and deleting topics, and deleting a partition's records up to an
//! offset (what retention does), for applications, tests and benchmarks.

use super::{version, Client, KResult, KafkaError};
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::{
    CreateTopicsRequest, DeleteRecordsRequest, DeleteTopicsRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;

fn name(t: &str) -> TopicName {
    TopicName(StrBytes::from_string(t.to_string()))
}

impl Client {
    /// Creates `topic` with `partitions` partitions (replication factor 1) and topic configs
    /// `configs`; a topic that exists already is left as it is. Waits until its partitions have
    /// leaders.
    pub fn create_topic(
        &mut self,
        topic: &str,
        partitions: i32,
        configs: &[(&str, &str)],
    ) -> KResult<()> {
        let req = CreateTopicsRequest::default()
            .with_timeout_ms(30_000)
            .with_topics(vec![CreatableTopic::default()
                .with_name(name(topic))
                .with_num_partitions(partitions)
                .with_replication_factor(1)
                .with_configs(
                    configs
                        .iter()
                        .map(|(k, v)| {
                            CreatableTopicConfig::default()
                                .with_name(StrBytes::from_string(k.to_string()))
                                .with_value(Some(StrBytes::from_string(v.to_string())))
                        })
                        .collect(),
                )]);
        let what = || format!("creating Kafka topic `{topic}`");
        self.retry(&what, |c| {
            let resp = c.send_any(&req, version::CREATE_TOPICS)?;
            for t in resp.topics {
                match ResponseError::try_from_code(t.error_code) {
                    None | Some(ResponseError::TopicAlreadyExists) => {}
                    Some(error) => {
                        return Err(KafkaError::Broker {
                            error,
                            context: format!(
                                "creating Kafka topic `{topic}`{}",
                                t.error_message
                                    .map(|m| format!(": {}", m.as_str()))
                                    .unwrap_or_default()
                            ),
                        })
                    }
                }
            }
            Ok(())
        })?;
        // Wait until every partition has a leader.
        self.retry(&what, |c| {
            let topics = [topic.to_string()];
            match c.metadata(Some(&topics))?.remove(topic) {
                Some(Ok(parts))
                    if parts.len() == partitions as usize
                        && parts.iter().all(|p| p.leader >= 0) =>
                {
                    Ok(())
                }
                _ => Err(KafkaError::Broker {
                    error: ResponseError::LeaderNotAvailable,
                    context: format!("waiting for the leaders of topic `{topic}`"),
                }),
            }
        })
    }

    /// Deletes `topic` (an unknown topic is no error).
    pub fn delete_topic(&mut self, topic: &str) -> KResult<()> {
        let req = DeleteTopicsRequest::default()
            .with_timeout_ms(30_000)
            .with_topic_names(vec![name(topic)]);
        let what = || format!("deleting Kafka topic `{topic}`");
        self.retry(&what, |c| {
            let resp = c.send_any(&req, version::DELETE_TOPICS)?;
            for t in resp.responses {
                match ResponseError::try_from_code(t.error_code) {
                    None | Some(ResponseError::UnknownTopicOrPartition) => {}
                    Some(error) => {
                        return Err(KafkaError::Broker {
                            error,
                            context: format!("deleting Kafka topic `{topic}`"),
                        })
                    }
                }
            }
            Ok(())
        })
    }

    /// Deletes the records of `topic` partition `partition` before `offset` (as retention
    /// would): the log then starts at `offset`.
    pub fn delete_records(&mut self, topic: &str, partition: i32, offset: i64) -> KResult<()> {
        let tp = (topic.to_string(), partition);
        let what = || format!("deleting the records of `{topic}` partition {partition}");
        self.retry(&what, |c| {
            let leader = c.leader(&tp)?;
            let req = DeleteRecordsRequest::default()
                .with_timeout_ms(30_000)
                .with_topics(vec![DeleteRecordsTopic::default()
                    .with_name(name(topic))
                    .with_partitions(vec![DeleteRecordsPartition::default()
                        .with_partition_index(partition)
                        .with_offset(offset)])]);
            let resp = c.send(leader, &req, version::DELETE_RECORDS)?;
            for t in resp.topics {
                for p in t.partitions {
                    let context = format!("deleting records of `{topic}` partition {partition}");
                    if let Some(e) = KafkaError::broker(p.error_code, context) {
                        return Err(e);
                    }
                }
            }
            Ok(())
        })
    }
}
