//! The end-to-end FOTA demo: a server and simulated devices on loopback.

fn main() {
    println!("fota-demo: will start a FOTA server and 8 simulated devices on 127.0.0.1,");
    println!("each with file-backed simulated flash holding an old image, build a delta to the");
    println!("new image and push or pull it over a lossy UDP link; the demo lands with issue 9.");
}
