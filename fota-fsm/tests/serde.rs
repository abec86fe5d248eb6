//! With the `serde` feature the machine and its configuration survive a serde round trip
//! (a server keeping a device's model, or a std device persisting it as JSON).
#![cfg(feature = "serde")]

use fota_fsm::{Config, Event, FirmwareUpdate, ObjectVersion, State, UpdateResult};

#[test]
fn machine_round_trips_through_json_in_every_state() {
    let mut m = FirmwareUpdate::new(Config::new(ObjectVersion::V1_2));
    let events = [
        Event::PackageUriWritten(b"coap://fw.example/pkg"),
        Event::ChunkStored {
            offset: 0,
            len: 512,
        },
        Event::IntegrityVerified,
        Event::UpdateStarted,
    ];
    let mut states = Vec::new();
    for (now, event) in events.into_iter().enumerate() {
        m.handle(event, now as u32 + 1);
        let json = serde_json::to_string(&m).expect("serialise");
        let back: FirmwareUpdate = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, m, "round trip in {:?}", m.state());
        states.push(back.state());
    }
    assert_eq!(
        states,
        [
            State::Downloading,
            State::Downloading,
            State::Downloaded,
            State::Updating
        ]
    );
    assert_eq!(m.update_result(), UpdateResult::Initial);
    let config = Config::new(ObjectVersion::V1_1);
    let json = serde_json::to_string(&config).expect("serialise");
    assert_eq!(
        serde_json::from_str::<Config>(&json).expect("deserialise"),
        config
    );
}
