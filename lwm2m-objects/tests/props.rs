//! Property tests: paths round-trip; the dispatcher never panics and a refused request changes
//! nothing; values read through `read` and `read_to` give the same bytes; stored Write-Attributes follow the rules and a refused one changes nothing; the DDF
//! loader never panics on damaged files.
#![cfg(feature = "std")]

mod common;

use common::{Owned, Store};
use lwm2m_objects::*;
use proptest::prelude::*;

fn any_path() -> impl Strategy<Value = Path> {
    (0usize..=4, prop::array::uniform4(0u16..=MAX_ID)).prop_map(|(depth, ids)| {
        ids[..depth]
            .iter()
            .fold(Path::ROOT, |p, &id| p.push(id).unwrap())
    })
}

/// Paths near the registered objects, so most requests reach the checks that matter.
fn near_path() -> impl Strategy<Value = Path> {
    let id = prop_oneof![
        Just(0u16),
        Just(1),
        Just(2),
        Just(3),
        Just(5),
        Just(9),
        0u16..30,
        Just(26500)
    ];
    (
        0usize..=4,
        id.clone(),
        prop_oneof![Just(0u16), Just(1), Just(7)],
        id,
        prop_oneof![Just(0u16), Just(1), Just(3)],
    )
        .prop_map(|(depth, o, i, r, ri)| {
            [o, i, r, ri][..depth]
                .iter()
                .fold(Path::ROOT, |p, &id| p.push(id).unwrap())
        })
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        Just(Operation::Read),
        Just(Operation::Discover),
        Just(Operation::WriteReplace),
        Just(Operation::WriteUpdate),
        Just(Operation::Execute),
        Just(Operation::Create),
        Just(Operation::Delete),
        Just(Operation::BootstrapWrite),
    ]
}

/// Write-Attributes queries: known and unknown names, good and bad values, removals.
fn attribute_query() -> impl Strategy<Value = String> {
    let part = (
        prop_oneof![
            Just("pmin"),
            Just("pmax"),
            Just("gt"),
            Just("lt"),
            Just("st"),
            Just("x")
        ],
        prop_oneof![
            Just(String::new()),
            (0u32..100).prop_map(|v| format!("={v}")),
            (-50i32..50).prop_map(|v| format!("={v}.5")),
            Just("=abc".to_owned()),
        ],
    )
        .prop_map(|(name, value)| format!("{name}{value}"));
    prop::collection::vec(part, 0..4).prop_map(|parts| parts.join("&"))
}

fn format() -> impl Strategy<Value = Option<u16>> {
    prop_oneof![
        Just(None),
        Just(Some(CONTENT_FORMAT_TEXT)),
        Just(Some(CONTENT_FORMAT_OPAQUE)),
        Just(Some(CONTENT_FORMAT_TLV)),
        Just(Some(CONTENT_FORMAT_LINK)),
        any::<u16>().prop_map(Some),
    ]
}

fn stores() -> Vec<Store> {
    vec![
        Store::new(&SECURITY, &[0]).set(0, 0, None, Owned::Str("coap://s".into())),
        Store::new(&SERVER, &[0])
            .set(0, 1, None, Owned::Int(300))
            .set(0, 7, None, Owned::Str("U".into())),
        Store::new(&ACCESS_CONTROL, &[0, 1]).set(0, 2, Some(1), Owned::Int(7)),
        Store::new(&DEVICE, &[0])
            .set(0, 6, Some(0), Owned::Int(1))
            .set(0, 9, None, Owned::Int(50)),
        Store::new(&FIRMWARE_UPDATE_V1_2_OPERATOR, &[0]).set(0, 3, None, Owned::Int(0)),
        Store::new(&LOCATION, &[0]).set(0, 0, None, Owned::Float(45.5)),
    ]
}

/// [`stores`] with a value of every type (each `ValueOut` method is reached).
fn rich_stores() -> Vec<Store> {
    let mut stores = stores();
    let extra = [
        (0, 3, Owned::Bytes(vec![0, 0xFF, 7])),
        (1, 6, Owned::Bool(true)),
        (1, 2, Owned::Uint(u64::MAX)),
        (3, 13, Owned::Time(-1_367_491_215)),
        (3, 1, Owned::Core("</3/0>".into())),
        (3, 2, Owned::Link(3, 65535)),
        (3, 10, Owned::Int(i64::MIN)),
        (5, 5, Owned::Float(-0.25)),
    ];
    for (index, resource, value) in extra {
        stores[index].values.insert((0, resource, None), value);
    }
    stores
}

/// The resource types of the objects in [`stores`] but Location's (Float).
const TYPES: u32 = Profile::of(&[
    &SECURITY,
    &SERVER,
    &ACCESS_CONTROL,
    &DEVICE,
    &FIRMWARE_UPDATE_V1_2_OPERATOR,
])
.bits();

/// A device whose server reads, discovers, writes single resources and executes, and never
/// names a resource instance.
const DEVICE_PROFILE: u32 = Profile::from_bits(TYPES)
    .without(Operation::Create)
    .without(Operation::Delete)
    .without(Operation::WriteUpdate)
    .without(Operation::BootstrapWrite)
    .without_instance_writes()
    .without_resource_instance_paths()
    .bits();

/// [`DEVICE_PROFILE`]'s operations folded from the objects but Access Control and Location:
/// no writable multiple resource among them (and no Create or Bootstrap-Write), so the code for
/// writing resource instances is left out (Access Control's writes of them answer 5.00).
const SINGLE_VALUE_PROFILE: u32 =
    Profile::of(&[&SECURITY, &SERVER, &DEVICE, &FIRMWARE_UPDATE_V1_2_OPERATOR])
        .without(Operation::Create)
        .without(Operation::Delete)
        .without(Operation::WriteUpdate)
        .without(Operation::BootstrapWrite)
        .without_instance_writes()
        .without_resource_instance_paths()
        .bits();

const _: () = assert!(!Profile::from_bits(SINGLE_VALUE_PROFILE).covers(&ACCESS_CONTROL));
const _: () = assert!(Profile::from_bits(SINGLE_VALUE_PROFILE).covers(&DEVICE));

/// The full dispatcher over `stores` and one on profile `Q` over `twins` answer `req` alike:
/// the same response, the same body and the same stores afterwards.
fn answers_alike<const Q: u32>(
    mut stores: Vec<Store>,
    mut twins: Vec<Store>,
    req: &Request<'_>,
    out_len: usize,
) -> Result<(), TestCaseError> {
    let mut out = vec![0u8; out_len];
    let mut twin_out = vec![0u8; out_len];
    let resp = {
        let mut objects: Vec<&mut dyn ObjectHandler> = stores
            .iter_mut()
            .map(|s| s as &mut dyn ObjectHandler)
            .collect();
        Dispatcher::new(&mut objects).handle(req, &mut out)
    };
    let twin_resp = {
        let mut objects: Vec<&mut dyn ObjectHandler> = twins
            .iter_mut()
            .map(|s| s as &mut dyn ObjectHandler)
            .collect();
        Dispatcher::new(&mut objects)
            .with_profile::<Q>()
            .handle(req, &mut twin_out)
    };
    prop_assert_eq!(resp, twin_resp);
    prop_assert_eq!(&out[..resp.len], &twin_out[..twin_resp.len]);
    prop_assert_eq!(stores, twins);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn paths_round_trip(path in any_path()) {
        let mut buf = [0u8; 32];
        let n = path.write_to(&mut buf).unwrap();
        let text = std::str::from_utf8(&buf[..n]).unwrap();
        prop_assert_eq!(text, path.to_string());
        prop_assert_eq!(Path::parse(text), Ok(path));
        let segments: Vec<String> = path.ids().iter().map(u16::to_string).collect();
        prop_assert_eq!(Path::from_segments(segments.iter().map(|s| s.as_bytes())), Ok(path));
    }

    #[test]
    fn path_parse_never_panics(text in ".{0,40}") {
        let _ = Path::parse(&text);
        let _ = Range::parse(&text);
    }

    #[test]
    fn dispatcher_never_panics_and_refusals_change_nothing(
        path in near_path(),
        op in operation(),
        content in format(),
        accept in format(),
        payload in prop::collection::vec(any::<u8>(), 0..64),
        out_len in 0usize..300,
    ) {
        let mut stores = stores();
        let before: Vec<_> = stores.iter().map(|s| (s.instances.clone(), s.values.clone())).collect();
        let mut objects: Vec<&mut dyn ObjectHandler> = stores.iter_mut().map(|s| s as &mut dyn ObjectHandler).collect();
        let mut dispatcher = Dispatcher::new(&mut objects);
        let mut out = vec![0u8; out_len];
        let req = Request::new(op, path).with_payload(content, &payload).with_accept(accept);
        let resp = dispatcher.handle(&req, &mut out);
        prop_assert!(resp.len <= out_len);
        if !resp.code.is_success() {
            let after: Vec<_> = stores.iter().map(|s| (s.instances.clone(), s.values.clone())).collect();
            prop_assert_eq!(before, after);
        }
    }

    #[test]
    fn read_and_read_to_answer_the_same_bytes(
        path in near_path(),
        op in operation(),
        content in format(),
        accept in format(),
        payload in prop::collection::vec(any::<u8>(), 0..64),
        out_len in 0usize..300,
    ) {
        // Every request (the hooks differ only in Read, which the others must not reach).
        const READ_TO: u32 = Profile::ALL.with_read_to().bits();
        let req = Request::new(op, path).with_payload(content, &payload).with_accept(accept);
        answers_alike::<READ_TO>(rich_stores(), rich_stores(), &req, out_len)?;
    }

    #[test]
    fn with_every_resource_answers_as_the_hook_that_leaves_none_out(
        path in near_path(),
        op in operation(),
        content in format(),
        accept in format(),
        payload in prop::collection::vec(any::<u8>(), 0..64),
        out_len in 0usize..300,
    ) {
        // Handlers whose `has_resource` says yes to every defined resource: the profile that
        // never asks must answer the same bytes and leave the same state.
        let every = || {
            let mut stores = rich_stores();
            for s in &mut stores {
                s.absent.clear();
            }
            stores
        };
        const EVERY: u32 = Profile::ALL.with_every_resource().bits();
        let req = Request::new(op, path).with_payload(content, &payload).with_accept(accept);
        answers_alike::<EVERY>(every(), every(), &req, out_len)?;
    }

    #[test]
    fn a_profiled_dispatcher_answers_as_the_full_one_within_its_profile(
        path in near_path(),
        op in operation(),
        content in format(),
        accept in format(),
        payload in prop::collection::vec(any::<u8>(), 0..64),
        out_len in 0usize..300,
        which in 0u8..3,
    ) {
        let narrow = which > 0;
        let mut full_stores = stores();
        let mut stores = stores();
        let mut full_out = vec![0u8; out_len];
        let mut out = vec![0u8; out_len];
        let req = Request::new(op, path).with_payload(content, &payload).with_accept(accept);
        let full = {
            let mut objects: Vec<&mut dyn ObjectHandler> = full_stores.iter_mut().map(|s| s as &mut dyn ObjectHandler).collect();
            Dispatcher::new(&mut objects).handle(&req, &mut full_out)
        };
        let before: Vec<_> = stores.iter().map(|s| (s.instances.clone(), s.values.clone())).collect();
        let (resp, profile) = {
            let mut objects: Vec<&mut dyn ObjectHandler> = stores.iter_mut().map(|s| s as &mut dyn ObjectHandler).collect();
            let d = Dispatcher::new(&mut objects);
            if which == 2 {
                (d.with_profile::<SINGLE_VALUE_PROFILE>().handle(&req, &mut out), Profile::from_bits(SINGLE_VALUE_PROFILE))
            } else if narrow {
                (d.with_profile::<DEVICE_PROFILE>().handle(&req, &mut out), Profile::from_bits(DEVICE_PROFILE))
            } else {
                (d.with_profile::<TYPES>().handle(&req, &mut out), Profile::from_bits(TYPES))
            }
        };
        let after: Vec<_> = stores.iter().map(|s| (s.instances.clone(), s.values.clone())).collect();
        let whole_write = path.depth() < 3
            && matches!(op, Operation::WriteReplace | Operation::WriteUpdate | Operation::BootstrapWrite);
        // Requests of a shape the device profile leaves out: whole-instance writes and
        // resource instance paths.
        let outside = whole_write || path.depth() == 4;
        if !profile.serves(op) {
            prop_assert_eq!(resp.code, ResponseCode::MethodNotAllowed);
            prop_assert_eq!(before, after);
        } else if narrow && outside {
            // A missing target is still 4.04; anything else is refused.
            let missing = resp.code == ResponseCode::NotFound && full.code == resp.code;
            prop_assert!(missing || resp.code == ResponseCode::MethodNotAllowed, "{:?}", resp);
            prop_assert_eq!(before, after);
        } else if resp.code == ResponseCode::InternalServerError && full.code != resp.code {
            // Only the Location object has a type (Float) outside the profiles; Access
            // Control's writable multiple resources are outside the single-value one.
            let outside: &[u16] = if which == 2 { &[6, 2] } else { &[6] };
            prop_assert!(path.ids().first().is_some_and(|o| outside.contains(o)), "{:?}", path);
            prop_assert_eq!(before, after);
        } else {
            prop_assert_eq!(resp, full);
            prop_assert_eq!(&out[..resp.len], &full_out[..full.len]);
            let full_after: Vec<_> = full_stores.iter().map(|s| (s.instances.clone(), s.values.clone())).collect();
            prop_assert_eq!(after, full_after);
        }
    }

    #[test]
    fn stored_attributes_always_follow_the_rules(
        requests in prop::collection::vec((near_path(), attribute_query()), 1..12),
    ) {
        let mut stores = stores();
        let mut objects: Vec<&mut dyn ObjectHandler> = stores.iter_mut().map(|s| s as &mut dyn ObjectHandler).collect();
        let mut table = [AttributeSlot::EMPTY; 4];
        let mut dispatcher = Dispatcher::new(&mut objects).with_attributes(&mut table);
        for (path, query) in &requests {
            let was = dispatcher.attributes(*path);
            let req = Request::new(Operation::WriteAttributes, *path).with_query(query.as_bytes());
            let code = dispatcher.handle(&req, &mut [0u8; 8]).code;
            if !code.is_success() {
                prop_assert_eq!(was, dispatcher.attributes(*path), "{} {:?}: {:?}", path, query, code);
            }
        }
        // Whatever is stored follows the rules, on a real path, without empty entries.
        for slot in &table {
            let a = slot.attributes();
            if slot.path() == Path::ROOT {
                prop_assert!(a.is_empty());
                continue;
            }
            prop_assert!(!a.is_empty() && slot.path().depth() <= 3);
            if let (Some(min), Some(max)) = (a.pmin, a.pmax) {
                prop_assert!(min <= max, "{:?}", a);
            }
            prop_assert!(a.st.is_none_or(|st| st.micros() >= 0), "{:?}", a);
            if let (Some(lt), Some(gt)) = (a.lt, a.gt) {
                let step = a.st.map_or(0, Threshold::micros);
                prop_assert!(lt.micros() + 2 * step < gt.micros(), "{:?}", a);
            }
        }
    }

    #[test]
    fn ddf_loader_never_panics_on_damage(cut in 0usize..2000, byte in any::<u8>(), at in 0usize..2000) {
        let text = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/ddf/5-1_2.xml")).unwrap();
        let mut damaged = text[..cut.min(text.len())].to_vec();
        if let Some(b) = damaged.get_mut(at) {
            *b = byte;
        }
        let _ = lwm2m_objects::ddf::load_ddf_str("damaged.xml", &String::from_utf8_lossy(&damaged));
    }
}
