//! The segmented partition log in Kafka's on-disk layout.
//!
//! No PyO3 here.
