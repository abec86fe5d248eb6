//! The dispatcher matrix: existence (4.04), permissions (4.05), types and ranges (4.00),
//! formats (4.15 / 4.06), Read/Write/Execute/Create/Delete/Discover behaviour, replace versus
//! partial update, the Register payload.

mod common;

use common::{Owned, Store};
use lwm2m_objects::*;
use lwm2m_tlv::{Kind, Writer, decode};

use ResponseCode::*;

const TLV: Option<u16> = Some(CONTENT_FORMAT_TLV);
const TEXT: Option<u16> = Some(CONTENT_FORMAT_TEXT);
const OPAQUE: Option<u16> = Some(CONTENT_FORMAT_OPAQUE);

#[derive(Clone, PartialEq, Debug)]
struct World {
    security: Store,
    server: Store,
    acl: Store,
    device: Store,
    firmware: Store,
}

fn world() -> World {
    World {
        security: Store::new(&SECURITY, &[0]).set(0, 0, None, Owned::Str("coap://s".into())),
        server: Store::new(&SERVER, &[0])
            .set(0, 0, None, Owned::Int(101))
            .set(0, 1, None, Owned::Int(300))
            .set(0, 6, None, Owned::Bool(false))
            .set(0, 7, None, Owned::Str("U".into())),
        acl: Store::new(&ACCESS_CONTROL, &[0])
            .set(0, 0, None, Owned::Int(3))
            .set(0, 1, None, Owned::Int(0))
            .set(0, 2, Some(101), Owned::Int(7))
            .set(0, 3, None, Owned::Int(101)),
        device: Store::new(&DEVICE, &[0])
            .without(&[5, 17, 18, 19, 20, 21, 22])
            .set(0, 0, None, Owned::Str("Open Mobile Alliance".into()))
            .set(0, 6, Some(0), Owned::Int(1))
            .set(0, 6, Some(1), Owned::Int(5))
            .set(0, 9, None, Owned::Int(100))
            .set(0, 11, Some(0), Owned::Int(0))
            .set(0, 13, None, Owned::Time(1_367_491_215))
            .set(0, 14, None, Owned::Str("+02:00".into()))
            .set(0, 15, None, Owned::Str("Europe/Paris".into()))
            .set(0, 16, None, Owned::Str("U".into())),
        firmware: Store::new(&FIRMWARE_UPDATE_V1_1_OPERATOR, &[0])
            .set(0, 1, None, Owned::Str(String::new()))
            .set(0, 3, None, Owned::Int(0))
            .set(0, 5, None, Owned::Int(0))
            .set(0, 9, None, Owned::Int(2))
            .set(0, 11, None, Owned::Int(1))
            .set(0, 26500, None, Owned::Int(0)),
    }
}

/// Every type and operation, values read through `ObjectHandler::read_to`.
const READ_TO: u32 = Profile::ALL.with_read_to().bits();

/// Runs one request; returns the code and the body. Every request of the matrix runs twice:
/// with values read through `read` and through `read_to`, which must answer the same bytes
/// and leave the objects the same.
fn run(w: &mut World, req: Request<'_>) -> (ResponseCode, Vec<u8>, Response) {
    let mut twin = w.clone();
    let mut out = [0u8; 1024];
    let resp = {
        let mut objects: [&mut dyn ObjectHandler; 5] = [
            &mut w.security,
            &mut w.server,
            &mut w.acl,
            &mut w.device,
            &mut w.firmware,
        ];
        Dispatcher::new(&mut objects).handle(&req, &mut out)
    };
    let mut twin_out = [0u8; 1024];
    let twin_resp = {
        let mut objects: [&mut dyn ObjectHandler; 5] = [
            &mut twin.security,
            &mut twin.server,
            &mut twin.acl,
            &mut twin.device,
            &mut twin.firmware,
        ];
        Dispatcher::new(&mut objects)
            .with_profile::<READ_TO>()
            .handle(&req, &mut twin_out)
    };
    assert_eq!(resp, twin_resp, "{req:?}");
    assert_eq!(out[..resp.len], twin_out[..twin_resp.len], "{req:?}");
    assert!(*w == twin, "{req:?}");
    (resp.code, out[..resp.len].to_vec(), resp)
}

fn p(text: &str) -> Path {
    Path::parse(text).unwrap()
}

fn code(w: &mut World, req: Request<'_>) -> ResponseCode {
    run(w, req).0
}

fn read(path: &str) -> Request<'static> {
    Request::new(Operation::Read, p(path))
}

fn put<'a>(path: &str, format: Option<u16>, payload: &'a [u8]) -> Request<'a> {
    Request::new(Operation::WriteReplace, p(path)).with_payload(format, payload)
}

fn post<'a>(path: &str, format: Option<u16>, payload: &'a [u8]) -> Request<'a> {
    Request::new(Operation::WriteUpdate, p(path)).with_payload(format, payload)
}

fn tlv(f: impl FnOnce(&mut Writer<'_>) -> Result<(), lwm2m_tlv::Error>) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let mut w = Writer::new(&mut buf);
    f(&mut w).unwrap();
    let n = w.finish().unwrap();
    buf[..n].to_vec()
}

#[test]
fn missing_targets_answer_not_found() {
    let mut w = world();
    for path in [
        "/9", "/9/0", "/3/1", "/3/1/0", "/3/0/5", "/3/0/99", "/3/0/6/7", "/3/0/0/0",
    ] {
        assert_eq!(code(&mut w, read(path)), NotFound, "read {path}");
    }
    assert_eq!(code(&mut w, put("/3/1/14", TEXT, b"x")), NotFound);
    assert_eq!(
        code(&mut w, Request::new(Operation::Execute, p("/3/0/5"))),
        NotFound
    );
    assert_eq!(
        code(&mut w, Request::new(Operation::Delete, p("/2/9"))),
        NotFound
    );
    // Registered object, missing optional resource with no value: left out of instance reads.
    let (c, body, _) = run(&mut w, read("/3/0"));
    assert_eq!(c, Content);
    assert!(decode(&body).all(|r| r.unwrap().id() != 5));
}

#[test]
fn operations_the_definition_forbids_answer_method_not_allowed() {
    let mut w = world();
    assert_eq!(code(&mut w, read("/3/0/4")), MethodNotAllowed); // Reboot: E
    assert_eq!(code(&mut w, read("/5/0/0")), MethodNotAllowed); // Package: W
    assert_eq!(code(&mut w, read("/0/0/0")), MethodNotAllowed); // Security: no operations
    assert_eq!(code(&mut w, put("/3/0/0", TEXT, b"x")), MethodNotAllowed); // R
    assert_eq!(code(&mut w, put("/5/0/3", TEXT, b"2")), MethodNotAllowed); // State: R
    assert_eq!(
        code(&mut w, Request::new(Operation::Execute, p("/3/0/0"))),
        MethodNotAllowed
    );
    assert_eq!(
        code(&mut w, Request::new(Operation::Execute, p("/3/0"))),
        MethodNotAllowed
    );
    assert_eq!(
        code(&mut w, Request::new(Operation::Delete, p("/3/0/1"))),
        MethodNotAllowed
    );
    assert_eq!(code(&mut w, put("/3", TLV, b"")), MethodNotAllowed);
    assert_eq!(code(&mut w, read("/")), MethodNotAllowed);
    // A Write on an instance that names a read-only resource is refused whole.
    let body = tlv(|t| t.resource_i64(0, 7));
    assert_eq!(code(&mut w, post("/1/0", TLV, &body)), MethodNotAllowed);
}

#[test]
fn wrongly_typed_or_out_of_range_values_answer_bad_request() {
    let mut w = world();
    for (path, text) in [
        ("/1/0/1", &b"abc"[..]),
        ("/1/0/1", b"99999999999999999999"),
        ("/1/0/6", b"2"),
        ("/1/0/6", b"true"),
        ("/5/0/11", b"3"), // Severity 0..2
        ("/5/0/11", b"-1"),
        ("/3/0/13", b"1.5"),     // Time is an integer
        ("/1/0/7", b"\xff\xfe"), // not UTF-8
    ] {
        assert_eq!(
            code(&mut w, put(path, TEXT, text)),
            BadRequest,
            "{path} {text:?}"
        );
    }
    let long = vec![b'a'; 256];
    assert_eq!(code(&mut w, put("/5/0/1", TEXT, &long)), BadRequest); // 0..255 bytes
    assert_eq!(code(&mut w, put("/5/0/1", TEXT, &long[..255])), Changed);
    // TLV: a 3-byte integer, a string for a boolean, the wrong resource id, a truncated record.
    let body = tlv(|t| t.record(Kind::Resource, 1, &[1, 2, 3]));
    assert_eq!(code(&mut w, put("/1/0/1", TLV, &body)), BadRequest);
    let body = tlv(|t| t.resource_str(6, "yes"));
    assert_eq!(code(&mut w, put("/1/0/6", TLV, &body)), BadRequest);
    let body = tlv(|t| t.resource_i64(2, 60));
    assert_eq!(code(&mut w, put("/1/0/1", TLV, &body)), BadRequest);
    assert_eq!(code(&mut w, put("/1/0/1", TLV, &[0xC1, 0x01])), BadRequest);
    assert_eq!(code(&mut w, put("/1/0/1", TLV, &[])), BadRequest);
    // Nothing was written by the refused requests.
    assert_eq!(w.server.get(0, 1, None), Some(&Owned::Int(300)));
    assert_eq!(w.firmware.get(0, 11, None), Some(&Owned::Int(1)));
}

#[test]
fn unsupported_formats() {
    let mut w = world();
    assert_eq!(
        code(&mut w, put("/1/0/1", OPAQUE, b"1")),
        UnsupportedContentFormat
    );
    assert_eq!(
        code(&mut w, put("/1/0/1", Some(110), b"[]")),
        UnsupportedContentFormat
    );
    assert_eq!(
        code(&mut w, put("/1/0", TEXT, b"1")),
        UnsupportedContentFormat
    );
    assert_eq!(
        code(&mut w, put("/2/0/2", TEXT, b"1")),
        UnsupportedContentFormat
    ); // multiple
    assert_eq!(code(&mut w, read("/1/0").with_accept(TEXT)), NotAcceptable);
    assert_eq!(
        code(&mut w, read("/3/0/6").with_accept(TEXT)),
        NotAcceptable
    );
    assert_eq!(
        code(&mut w, read("/1/0/1").with_accept(OPAQUE)),
        NotAcceptable
    );
    assert_eq!(
        code(&mut w, read("/1/0/1").with_accept(Some(110))),
        NotAcceptable
    );
    // Opaque resources take octet-stream; TLV works everywhere.
    assert_eq!(code(&mut w, put("/5/0/0", OPAQUE, &[0, 1, 2])), Changed);
    assert_eq!(
        w.firmware.get(0, 0, None),
        Some(&Owned::Bytes(vec![0, 1, 2]))
    );
    let body = tlv(|t| t.resource_opaque(0, &[9]));
    assert_eq!(code(&mut w, put("/5/0/0", TLV, &body)), Changed);
    let legacy = Some(CONTENT_FORMAT_TLV_LEGACY);
    let body = tlv(|t| t.resource_i64(1, 120));
    assert_eq!(code(&mut w, put("/1/0/1", legacy, &body)), Changed);
    assert_eq!(w.server.get(0, 1, None), Some(&Owned::Int(120)));
}

#[test]
fn reads_in_every_format() {
    let mut w = world();
    let (c, body, r) = run(&mut w, read("/1/0/1"));
    assert_eq!(
        (c, body.as_slice(), r.content_format),
        (Content, &b"300"[..], TEXT)
    );
    let (_, body, r) = run(&mut w, read("/1/0/1").with_accept(TLV));
    assert_eq!(
        (body.as_slice(), r.content_format),
        (&[0xC2, 0x01, 0x01, 0x2C][..], TLV)
    );
    let (_, body, _) = run(&mut w, read("/1/0/6"));
    assert_eq!(body, b"0");
    let (_, body, _) = run(&mut w, read("/3/0/6/1"));
    assert_eq!(body, b"5");
    let (_, body, _) = run(&mut w, read("/3/0/6/1").with_accept(TLV));
    assert_eq!(body, [0x41, 0x01, 0x05]);
    // A multiple resource, an instance and an object read as TLV.
    let (_, body, r) = run(&mut w, read("/3/0/6"));
    assert_eq!(r.content_format, TLV);
    let rec = decode(&body).next().unwrap().unwrap();
    assert_eq!((rec.kind(), rec.id()), (Kind::MultipleResource, 6));
    let values: Vec<i64> = rec
        .children()
        .map(|c| c.unwrap().as_i64().unwrap())
        .collect();
    assert_eq!(values, [1, 5]);
    let (_, body, _) = run(&mut w, read("/3/0"));
    let ids: Vec<u16> = decode(&body).map(|r| r.unwrap().id()).collect();
    // Implemented multiple resources without instances (7, 8) read as empty containers.
    assert_eq!(ids, [0, 6, 7, 8, 9, 11, 13, 14, 15, 16]);
    let (_, body, _) = run(&mut w, read("/3"));
    let inst = decode(&body).next().unwrap().unwrap();
    assert_eq!(
        (inst.kind(), inst.id(), inst.children().count()),
        (Kind::ObjectInstance, 0, 10)
    );
    // A response that does not fit the buffer is an internal error, never a panic.
    let mut twin = w.device.clone();
    let mut objects: [&mut dyn ObjectHandler; 1] = [&mut w.device];
    let mut d = Dispatcher::new(&mut objects);
    let mut small = [0u8; 10];
    assert_eq!(
        d.handle(&read("/3/0"), &mut small).code,
        InternalServerError
    );
    // A TLV answer needs no room beyond its own bytes (the container headers go in front of
    // the records once they are written): every smaller buffer is a 5.00.
    let mut big = [0u8; 1024];
    let whole = d.handle(&read("/3"), &mut big);
    // The same through `read_to` (its values written into a view of the buffer).
    let mut twin_objects: [&mut dyn ObjectHandler; 1] = [&mut twin];
    let mut d2 = Dispatcher::new(&mut twin_objects).with_profile::<READ_TO>();
    for size in 0..=whole.len {
        let (mut out, mut out2) = (vec![0u8; size], vec![0u8; size]);
        let resp = d.handle(&read("/3"), &mut out);
        let resp2 = d2.handle(&read("/3"), &mut out2);
        for (resp, out) in [(resp, &out), (resp2, &out2)] {
            if size == whole.len {
                assert_eq!((resp.code, &out[..]), (Content, &big[..whole.len]));
            } else {
                assert_eq!(resp.code, InternalServerError, "{size}");
            }
        }
    }
}

#[test]
fn write_replace_versus_partial_update() {
    let mut w = world();
    // Partial update of the instance: only 14 changes.
    let body = tlv(|t| t.resource_str(14, "+01:00"));
    assert_eq!(code(&mut w, post("/3/0", TLV, &body)), Changed);
    assert_eq!(
        w.device.get(0, 14, None),
        Some(&Owned::Str("+01:00".into()))
    );
    assert_eq!(
        w.device.get(0, 15, None),
        Some(&Owned::Str("Europe/Paris".into()))
    );
    // Replace of the instance: the writable resources left out lose their values.
    let body = tlv(|t| t.resource_str(14, "+03:00"));
    assert_eq!(code(&mut w, put("/3/0", TLV, &body)), Changed);
    assert_eq!(
        w.device.get(0, 14, None),
        Some(&Owned::Str("+03:00".into()))
    );
    assert_eq!(w.device.get(0, 15, None), None);
    assert_eq!(
        w.device.get(0, 0, None),
        Some(&Owned::Str("Open Mobile Alliance".into()))
    );
    // Replace of a multiple resource drops the old instances...
    let body = tlv(|t| {
        t.begin_multiple(2)?;
        t.resource_instance_i64(1, 15)?;
        t.resource_instance_i64(2, 1)?;
        t.end()
    });
    assert_eq!(code(&mut w, put("/2/0/2", TLV, &body)), Changed);
    let acl: Vec<_> = (0..200)
        .filter_map(|i| w.acl.get(0, 2, Some(i)).map(|v| (i, v.clone())))
        .collect();
    assert_eq!(acl, [(1, Owned::Int(15)), (2, Owned::Int(1))]);
    // ...a partial update of the instance adds to them; a resource instance is written alone.
    let body = tlv(|t| {
        t.begin_multiple(2)?;
        t.resource_instance_i64(5, 3)?;
        t.end()
    });
    assert_eq!(code(&mut w, post("/2/0", TLV, &body)), Changed);
    assert_eq!(code(&mut w, put("/2/0/2/9", TEXT, b"4")), Changed);
    let ids: Vec<u16> = (0..200)
        .filter(|&i| w.acl.get(0, 2, Some(i)).is_some())
        .collect();
    assert_eq!(ids, [1, 2, 5, 9]);
    // An instance write is checked whole before anything is written.
    let body = tlv(|t| {
        t.resource_i64(1, 86400)?;
        t.record(Kind::Resource, 6, &[2])
    });
    assert_eq!(code(&mut w, put("/1/0", TLV, &body)), BadRequest);
    assert_eq!(w.server.get(0, 1, None), Some(&Owned::Int(300)));
    // The payload may wrap the resources in their object instance record.
    let body = tlv(|t| {
        t.begin_instance(0)?;
        t.resource_i64(1, 600)?;
        t.end()
    });
    assert_eq!(code(&mut w, post("/1/0", TLV, &body)), Changed);
    assert_eq!(w.server.get(0, 1, None), Some(&Owned::Int(600)));
    let body = tlv(|t| {
        t.begin_instance(1)?;
        t.resource_i64(1, 600)?;
        t.end()
    });
    assert_eq!(code(&mut w, post("/1/0", TLV, &body)), BadRequest);
}

#[test]
fn execute_create_delete() {
    let mut w = world();
    let req = Request::new(Operation::Execute, p("/5/0/2")).with_payload(None, b"0='</33629/1>'");
    assert_eq!(code(&mut w, req), Changed);
    assert_eq!(w.firmware.log, ["execute 0/2 0='</33629/1>'"]);
    assert_eq!(
        code(&mut w, Request::new(Operation::Execute, p("/5/0/26501"))),
        Changed
    );

    // Create with the id in an instance record, then with no id (lowest free).
    let body = tlv(|t| {
        t.begin_instance(7)?;
        t.resource_i64(0, 5)?;
        t.resource_i64(1, 0)?;
        t.resource_i64(3, 101)?;
        t.end()
    });
    let (c, _, r) = run(
        &mut w,
        Request::new(Operation::Create, p("/2")).with_payload(TLV, &body),
    );
    assert_eq!((c, r.created), (Created, Some(7)));
    assert_eq!(w.acl.get(7, 3, None), Some(&Owned::Int(101)));
    let bare = tlv(|t| t.resource_i64(0, 4));
    let (c, _, r) = run(
        &mut w,
        Request::new(Operation::Create, p("/2")).with_payload(TLV, &bare),
    );
    assert_eq!((c, r.created), (Created, Some(1)));
    // An existing id, a single-instance object that has its instance, bad values: 4.00.
    let (c, _, _) = run(
        &mut w,
        Request::new(Operation::Create, p("/2")).with_payload(TLV, &body),
    );
    assert_eq!(c, BadRequest);
    assert_eq!(
        code(
            &mut w,
            Request::new(Operation::Create, p("/3")).with_payload(TLV, &[])
        ),
        BadRequest
    );
    let bad = tlv(|t| t.resource_str(0, "xyz")); // 3 bytes: no integer
    assert_eq!(
        code(
            &mut w,
            Request::new(Operation::Create, p("/2")).with_payload(TLV, &bad)
        ),
        BadRequest
    );
    assert_eq!(
        code(
            &mut w,
            Request::new(Operation::Create, p("/2")).with_payload(TEXT, b"1")
        ),
        UnsupportedContentFormat
    );
    w.acl.creatable = false;
    assert_eq!(
        code(
            &mut w,
            Request::new(Operation::Create, p("/2")).with_payload(TLV, &[])
        ),
        MethodNotAllowed
    );

    assert_eq!(
        code(&mut w, Request::new(Operation::Delete, p("/2/7"))),
        Deleted
    );
    assert_eq!(
        code(&mut w, Request::new(Operation::Delete, p("/2/7"))),
        NotFound
    );
    assert_eq!(code(&mut w, read("/2/7")), NotFound);
}

#[test]
fn discover_and_registration_links() {
    let mut w = world();
    let discover = |path: &str| Request::new(Operation::Discover, p(path));
    let (c, body, r) = run(&mut w, discover("/3/0"));
    assert_eq!((c, r.content_format), (Content, Some(CONTENT_FORMAT_LINK)));
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "</3/0>,</3/0/0>,</3/0/1>,</3/0/2>,</3/0/3>,</3/0/4>,</3/0/6>;dim=2,</3/0/7>;dim=0,\
         </3/0/8>;dim=0,</3/0/9>,</3/0/10>,</3/0/11>;dim=1,</3/0/12>,</3/0/13>,</3/0/14>,\
         </3/0/15>,</3/0/16>"
    );
    let (_, body, _) = run(&mut w, discover("/5"));
    assert!(
        String::from_utf8(body)
            .unwrap()
            .starts_with("</5>;ver=1.1,</5/0>,</5/0/0>,")
    );
    let (_, body, _) = run(&mut w, discover("/3/0/6"));
    assert_eq!(body, b"</3/0/6>;dim=2,</3/0/6/0>,</3/0/6/1>");
    assert_eq!(code(&mut w, discover("/3/0/6/0")), MethodNotAllowed);

    let mut objects: [&mut dyn ObjectHandler; 5] = [
        &mut w.security,
        &mut w.server,
        &mut w.acl,
        &mut w.device,
        &mut w.firmware,
    ];
    let d = Dispatcher::new(&mut objects);
    let mut out = [0u8; 128];
    let n = d.registration_links(&mut out).unwrap();
    assert_eq!(
        std::str::from_utf8(&out[..n]).unwrap(),
        r#"</>;rt="oma.lwm2m",</1/0>,</2/0>,</3/0>,</5>;ver=1.1,</5/0>"#
    );
    let mut small = [0u8; 20];
    assert!(d.registration_links(&mut small).is_err());
}

#[test]
fn coap_methods_map_to_operations() {
    let from = |m: u8, path: &str, accept: Option<u16>| Operation::from_coap(m, &p(path), accept);
    assert_eq!(from(1, "/3/0", None), Some(Operation::Read));
    assert_eq!(
        from(1, "/3/0", Some(CONTENT_FORMAT_LINK)),
        Some(Operation::Discover)
    );
    assert_eq!(from(2, "/2", None), Some(Operation::Create));
    assert_eq!(from(2, "/3/0", None), Some(Operation::WriteUpdate));
    assert_eq!(from(2, "/3/0/4", None), Some(Operation::Execute));
    assert_eq!(from(3, "/3/0/14", None), Some(Operation::WriteReplace));
    assert_eq!(from(4, "/2/1", None), Some(Operation::Delete));
    assert_eq!(from(5, "/2/1", None), None);
    assert_eq!(ResponseCode::UnsupportedContentFormat.code(), 0x8F);
    assert_eq!((NotFound.class(), NotFound.detail()), (4, 4));
}

#[test]
#[cfg(feature = "bootstrap")]
fn bootstrap_write_sets_any_value_and_creates_instances() {
    let mut w = world();
    let bs = |path: &str| Request::new(Operation::BootstrapWrite, p(path));
    // The Security object has no operations: only a Bootstrap-Write sets it.
    assert_eq!(
        code(&mut w, put("/0/0/0", TEXT, b"coaps://lwm2m")),
        MethodNotAllowed
    );
    assert_eq!(
        code(&mut w, bs("/0/0/0").with_payload(TEXT, b"coaps://lwm2m")),
        Changed
    );
    assert_eq!(
        w.security.get(0, 0, None),
        Some(&Owned::Str("coaps://lwm2m".into()))
    );
    // An instance that does not exist yet is created, by path or by instance records.
    let body = tlv(|t| {
        t.resource_str(0, "coap://bs")?;
        t.resource_bool(1, true)
    });
    assert_eq!(code(&mut w, bs("/0/1").with_payload(TLV, &body)), Changed);
    let body = tlv(|t| {
        t.begin_instance(2)?;
        t.resource_i64(10, 102)?;
        t.end()
    });
    assert_eq!(code(&mut w, bs("/0").with_payload(TLV, &body)), Changed);
    assert_eq!(w.security.log, ["create 1", "create 2"]);
    assert_eq!(w.security.get(1, 1, None), Some(&Owned::Bool(true)));
    assert_eq!(w.security.get(2, 10, None), Some(&Owned::Int(102)));
    // Types and ranges still hold; executables and bare resources at /O are refused.
    assert_eq!(
        code(&mut w, bs("/0/0/2").with_payload(TEXT, b"9")),
        BadRequest
    );
    assert_eq!(
        code(&mut w, bs("/3/0/4").with_payload(TEXT, b"")),
        MethodNotAllowed
    );
    let bare = tlv(|t| t.resource_i64(10, 1));
    assert_eq!(code(&mut w, bs("/0").with_payload(TLV, &bare)), BadRequest);
    assert_eq!(w.security.instances.len(), 3);
}

#[test]
fn floats_in_tlv_and_text() {
    let mut location = Store::new(&LOCATION, &[0])
        .set(0, 0, None, Owned::Float(45.5))
        .set(0, 1, None, Owned::Float(-0.25));
    let mut objects: [&mut dyn ObjectHandler; 1] = [&mut location];
    let mut d = Dispatcher::new(&mut objects);
    let mut out = [0u8; 64];
    // TLV: always 8 bytes; 4-byte floats are accepted on Write.
    let resp = d.handle(&read("/6/0/0").with_accept(TLV), &mut out);
    assert_eq!(
        &out[..resp.len],
        &[0xC8, 0x00, 0x08, 0x40, 0x46, 0xC0, 0, 0, 0, 0, 0]
    );
    let body = tlv(|t| t.record(Kind::Resource, 1, &1.5f32.to_be_bytes()));
    // Location resources are read-only: the definition refuses the Write whatever the format.
    assert_eq!(
        d.handle(&put("/6/0/1", TLV, &body), &mut out).code,
        MethodNotAllowed
    );
    let resp = d.handle(&read("/6/0"), &mut out);
    let values: Vec<f64> = decode(&out[..resp.len])
        .map(|r| r.unwrap().as_f64().unwrap())
        .collect();
    assert_eq!(values, [45.5, -0.25]);
    // Plain text needs the `float-text` feature (on with `std`).
    let resp = d.handle(&read("/6/0/1"), &mut out);
    if cfg!(feature = "float-text") {
        assert_eq!((resp.code, &out[..resp.len]), (Content, &b"-0.25"[..]));
    } else {
        assert_eq!(resp.code, NotAcceptable);
    }
}

#[test]
fn registration_lists_objects_without_instances_and_every_instance() {
    let mut security = Store::new(&SECURITY, &[0, 1]);
    let mut server = Store::new(&SERVER, &[0, 4, 7]);
    let mut acl = Store::new(&ACCESS_CONTROL, &[]);
    let mut firmware = Store::new(&FIRMWARE_UPDATE_V1_2, &[]);
    let mut objects: [&mut dyn ObjectHandler; 4] =
        [&mut security, &mut server, &mut acl, &mut firmware];
    let d = Dispatcher::new(&mut objects);
    let mut out = [0u8; 128];
    let n = d.registration_links(&mut out).unwrap();
    assert_eq!(
        std::str::from_utf8(&out[..n]).unwrap(),
        r#"</>;rt="oma.lwm2m",</1/0>,</1/4>,</1/7>,</2>,</5>;ver=1.2"#
    );
}

/// A writable Float resource with a range, for the profile test.
static GAUGE: ObjectDef = ObjectDef::new(
    32_001,
    "Gauge",
    "urn:oma:lwm2m:x:32001",
    &[
        ResourceDef::new(0, "Level", Operations::ReadWrite, ResourceType::Float),
        ResourceDef::new(1, "Count", Operations::ReadWrite, ResourceType::Integer),
    ],
)
.with_ranges(&[RangeDef::new(0, 0, 100), RangeDef::new(1, 0, 9)])
.multiple();

#[test]
fn a_profile_leaves_out_types_and_operations() {
    // Folded from other definitions: Integer is in, Float is not.
    const PROFILE: u32 = Profile::of(&[&SERVER])
        .without(Operation::Delete)
        .without_instance_writes()
        .bits();
    const _: () = assert!(!Profile::from_bits(PROFILE).covers(&GAUGE));
    let mut gauge = Store::new(&GAUGE, &[0])
        .set(0, 0, None, Owned::Float(1.5))
        .set(0, 1, None, Owned::Int(3));
    let mut objects: [&mut dyn ObjectHandler; 1] = [&mut gauge];
    let mut d = Dispatcher::new(&mut objects).with_profile::<PROFILE>();
    let mut out = [0u8; 64];
    // Types in the profile: as the full dispatcher (range checked).
    let resp = d.handle(&read("/32001/0/1"), &mut out);
    assert_eq!((resp.code, &out[..resp.len]), (Content, &b"3"[..]));
    assert_eq!(
        d.handle(&put("/32001/0/1", TEXT, b"7"), &mut out).code,
        Changed
    );
    assert_eq!(
        d.handle(&put("/32001/0/1", TEXT, b"10"), &mut out).code,
        BadRequest
    );
    // Float is outside it: 5.00 for its values, in and out.
    let body = tlv(|t| t.record(Kind::Resource, 0, &2.5f64.to_be_bytes()));
    assert_eq!(
        d.handle(&put("/32001/0/0", TLV, &body), &mut out).code,
        InternalServerError
    );
    let resp = d.handle(&read("/32001/0/0").with_accept(TLV), &mut out);
    assert_eq!(resp.code, InternalServerError);
    // Operations outside it: 4.05; Writes of a whole instance too, Create still works.
    let delete = Request::new(Operation::Delete, p("/32001/0"));
    assert_eq!(d.handle(&delete, &mut out).code, MethodNotAllowed);
    let body = tlv(|t| t.record(Kind::Resource, 1, &[4]));
    assert_eq!(
        d.handle(&put("/32001/0", TLV, &body), &mut out).code,
        MethodNotAllowed
    );
    assert_eq!(
        d.handle(&post("/32001/0", TLV, &body), &mut out).code,
        MethodNotAllowed
    );
    let create = Request::new(Operation::Create, p("/32001")).with_payload(TLV, &body);
    let resp = d.handle(&create, &mut out);
    assert_eq!((resp.code, resp.created), (Created, Some(1)));
    assert_eq!(gauge.values.get(&(0, 1, None)), Some(&Owned::Int(7)));
    assert_eq!(gauge.values.get(&(1, 1, None)), Some(&Owned::Int(4)));
    assert_eq!(gauge.values.get(&(0, 0, None)), Some(&Owned::Float(1.5)));
}

#[test]
#[cfg(feature = "attributes")]
fn write_attributes_are_stored_checked_and_discovered() {
    let mut w = world();
    let mut table = [AttributeSlot::EMPTY; 3];
    let mut objects: [&mut dyn ObjectHandler; 5] = [
        &mut w.security,
        &mut w.server,
        &mut w.acl,
        &mut w.device,
        &mut w.firmware,
    ];
    let mut d = Dispatcher::new(&mut objects).with_attributes(&mut table);
    let attrs = |d: &mut Dispatcher<'_, '_>, path: &str, query: &[u8]| {
        let req = Request::new(Operation::WriteAttributes, p(path)).with_query(query);
        d.handle(&req, &mut [0u8; 16]).code
    };
    // Object, instance and resource levels.
    assert_eq!(attrs(&mut d, "/3", b"pmin=10"), Changed);
    assert_eq!(attrs(&mut d, "/3/0", b"pmax=60"), Changed);
    assert_eq!(attrs(&mut d, "/3/0/9", b"gt=50&lt=10.5&st=2"), Changed);
    // Bad values and rules: 4.00, nothing stored.
    for (path, query) in [
        ("/3/0/9", &b"pmin=x"[..]),
        ("/3/0/9", b"pmin=-1"),
        ("/3/0/9", b"pmin=10&pmax=5"),
        ("/3/0/9", b"gt=1&lt=5"),
        ("/3/0/9", b"st=-1"),
        ("/3/0/9", b"lt=47"), // lt + 2*st >= gt
        ("/3/0/9", b"gt=abc"),
        ("/3/0/9", b"foo=1"),
        ("/3/0", b"gt=5"),   // thresholds only on numeric resources
        ("/3/0/0", b"lt=5"), // Manufacturer is a string
    ] {
        assert_eq!(attrs(&mut d, path, query), BadRequest, "{path}?{query:?}");
    }
    assert_eq!(attrs(&mut d, "/3/1", b"pmin=1"), NotFound);
    assert_eq!(attrs(&mut d, "/3/0/6/0", b"pmin=1"), MethodNotAllowed);
    // The table holds three paths.
    assert_eq!(attrs(&mut d, "/5/0/3", b"pmin=1"), InternalServerError);
    let got = d.attributes(p("/3/0/9"));
    assert_eq!(
        (got.pmin, got.pmax, got.gt, got.lt, got.st),
        (
            Some(10),
            Some(60),
            Some(Threshold::from_micros(50_000_000)),
            Some(Threshold::from_micros(10_500_000)),
            Some(Threshold::from_micros(2_000_000))
        )
    );

    let discover = |d: &mut Dispatcher<'_, '_>, path: &str| {
        let mut out = [0u8; 1024];
        let resp = d.handle(&Request::new(Operation::Discover, p(path)), &mut out);
        String::from_utf8(out[..resp.len].to_vec()).unwrap()
    };
    assert_eq!(
        discover(&mut d, "/3/0/9"),
        "</3/0/9>;pmin=10;pmax=60;gt=50;lt=10.5;st=2"
    );
    let instance = discover(&mut d, "/3/0");
    assert!(
        instance.starts_with("</3/0>;pmax=60,</3/0/0>,"),
        "{instance}"
    );
    assert!(
        instance.contains(",</3/0/9>;gt=50;lt=10.5;st=2,"),
        "{instance}"
    );
    assert!(discover(&mut d, "/3").starts_with("</3>;pmin=10,</3/0>;pmax=60,"));

    // A name without value removes the attribute; an empty entry frees its slot.
    assert_eq!(attrs(&mut d, "/3", b"pmin"), Changed);
    assert_eq!(attrs(&mut d, "/5/0/3", b"pmin=1&pmax=2"), Changed);
    assert_eq!(d.attributes(p("/3/0/9")).pmin, None);
    // Removing an attribute nobody set needs no room.
    assert_eq!(attrs(&mut d, "/3/0/1", b"pmax"), Changed);
    assert_eq!(
        Operation::from_coap_query(3, &p("/3/0/9"), None, true),
        Some(Operation::WriteAttributes)
    );
}

/// Writes a value, then refuses resource 1 (what it wrote is dropped); answers 9 for 0.
struct Sloppy;

impl ObjectHandler for Sloppy {
    fn definition(&self) -> &ObjectDef {
        &GAUGE
    }
    fn next_instance(&self, after: Option<u16>) -> Option<u16> {
        after.is_none().then_some(0)
    }
    fn read_to(
        &self,
        _: u16,
        resource: u16,
        _: Option<u16>,
        out: &mut ValueOut<'_>,
    ) -> Result<(), ResponseCode> {
        out.integer(0x1234_5678)?;
        if resource == 1 {
            return Err(NotFound);
        }
        out.integer(9)
    }
}

#[test]
fn read_to_drops_what_an_error_left_and_its_default_answers_internal_error() {
    let mut sloppy = Sloppy;
    let mut objects: [&mut dyn ObjectHandler; 1] = [&mut sloppy];
    let mut d = Dispatcher::new(&mut objects).with_profile::<READ_TO>();
    let mut out = [0u8; 64];
    // Resource 1 is left out of the instance; 0 holds both values it wrote (one per read is
    // the contract: a second is appended).
    let resp = d.handle(&read("/32001/0"), &mut out);
    assert_eq!(
        (resp.code, &out[..resp.len]),
        (Content, &[0xC5, 0, 0x12, 0x34, 0x56, 0x78, 9][..])
    );
    assert_eq!(d.handle(&read("/32001/0/1"), &mut out).code, NotFound);
    // A handler without `read_to` on such a dispatcher: 5.00 (on the default one, `read`).
    let mut plain = OnRead;
    let mut objects: [&mut dyn ObjectHandler; 1] = [&mut plain];
    let mut d = Dispatcher::new(&mut objects).with_profile::<READ_TO>();
    assert_eq!(
        d.handle(&read("/32001/0/1"), &mut out).code,
        InternalServerError
    );
    let mut d = d.with_profile::<{ Profile::ALL.bits() }>();
    let resp = d.handle(&read("/32001/0/1"), &mut out);
    assert_eq!((resp.code, &out[..resp.len]), (Content, &b"3"[..]));
}

/// Reads 3 through `read` only.
struct OnRead;

impl ObjectHandler for OnRead {
    fn definition(&self) -> &ObjectDef {
        &GAUGE
    }
    fn next_instance(&self, after: Option<u16>) -> Option<u16> {
        after.is_none().then_some(0)
    }
    fn read(&self, _: u16, _: u16, _: Option<u16>) -> Result<Value<'_>, ResponseCode> {
        Ok(Value::Integer(3))
    }
}

#[test]
fn a_profile_without_resource_instance_paths() {
    const PROFILE: u32 = Profile::of(&[&DEVICE])
        .without_resource_instance_paths()
        .bits();
    let mut device = Store::new(&DEVICE, &[0])
        .set(0, 6, Some(0), Owned::Int(1))
        .set(0, 6, Some(1), Owned::Int(5));
    let mut objects: [&mut dyn ObjectHandler; 1] = [&mut device];
    let mut d = Dispatcher::new(&mut objects).with_profile::<PROFILE>();
    let mut out = [0u8; 64];
    // A multiple resource is read and discovered whole, its instances included.
    let resp = d.handle(&read("/3/0/6"), &mut out);
    assert_eq!(
        (resp.code, &out[..resp.len]),
        (Content, &b"\x86\x06\x41\x00\x01\x41\x01\x05"[..])
    );
    let discover = Request::new(Operation::Discover, p("/3/0/6"));
    let resp = d.handle(&discover, &mut out);
    assert_eq!(&out[..resp.len], b"</3/0/6>;dim=2,</3/0/6/0>,</3/0/6/1>");
    // A path naming one of them: 4.05, for every operation, and nothing changes.
    assert_eq!(d.handle(&read("/3/0/6/1"), &mut out).code, MethodNotAllowed);
    assert_eq!(
        d.handle(&put("/3/0/6/1", TEXT, b"2"), &mut out).code,
        MethodNotAllowed
    );
    assert_eq!(device.values.get(&(0, 6, Some(1))), Some(&Owned::Int(5)));
}

#[test]
fn multiple_resource_writes_are_left_out_when_no_definition_needs_them() {
    // Device has multiple resources, none writable: without Create and Bootstrap-Write no
    // Write can reach their instances, and the code for it is left out; a definition the
    // profile was not folded from (Access Control's writable multiple resource) gets 5.00.
    const SINGLE: u32 = Profile::of(&[&DEVICE])
        .without(Operation::Create)
        .without(Operation::BootstrapWrite)
        .bits();
    const _: () = assert!(!Profile::from_bits(SINGLE).covers(&ACCESS_CONTROL));
    // With Create, Device's multiple resources can be set: the code stays.
    const CREATES: u32 = Profile::of(&[&DEVICE, &ACCESS_CONTROL]).bits();
    const _: () = assert!(Profile::from_bits(CREATES).covers(&ACCESS_CONTROL));
    let mut acl = Store::new(&ACCESS_CONTROL, &[0]).set(0, 2, Some(1), Owned::Int(7));
    let mut device = Store::new(&DEVICE, &[0]).set(0, 6, Some(0), Owned::Int(1));
    let body = tlv(|t| {
        t.begin_multiple(2)?;
        t.record(Kind::ResourceInstance, 1, &[9])?;
        t.end()
    });
    {
        let mut objects: [&mut dyn ObjectHandler; 2] = [&mut acl, &mut device];
        let mut d = Dispatcher::new(&mut objects).with_profile::<SINGLE>();
        let mut out = [0u8; 64];
        assert_eq!(
            d.handle(&put("/2/0/2", TLV, &body), &mut out).code,
            InternalServerError
        );
        assert_eq!(
            d.handle(&put("/2/0/2/1", TEXT, b"9"), &mut out).code,
            InternalServerError
        );
        // Device's multiple resources are read-only: 4.05 as before; reads work.
        assert_eq!(
            d.handle(&put("/3/0/6/0", TEXT, b"2"), &mut out).code,
            MethodNotAllowed
        );
        let resp = d.handle(&read("/3/0/6"), &mut out);
        assert_eq!(
            (resp.code, &out[..resp.len]),
            (Content, &b"\x83\x06\x41\x00\x01"[..])
        );
    }
    assert_eq!(acl.values.get(&(0, 2, Some(1))), Some(&Owned::Int(7)));
    let mut objects: [&mut dyn ObjectHandler; 2] = [&mut acl, &mut device];
    let mut d = Dispatcher::new(&mut objects).with_profile::<CREATES>();
    let mut out = [0u8; 64];
    assert_eq!(d.handle(&put("/2/0/2", TLV, &body), &mut out).code, Changed);
    assert_eq!(acl.values.get(&(0, 2, Some(1))), Some(&Owned::Int(9)));
}
