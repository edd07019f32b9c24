//! scratch
mod common;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use corio_executor::{LocalExecutor, Park};
struct G(Arc<Mutex<Option<std::thread::ThreadId>>>);
impl Drop for G { fn drop(&mut self) { *self.0.lock().unwrap() = Some(std::thread::current().id()); } }
struct P(usize);
impl Park for P { fn park(&mut self, _t: Option<Duration>) { self.0 += 1; assert!(self.0 < 50, "hung"); std::thread::sleep(Duration::from_millis(5)); } }
#[test]
fn scratch() {
    let ex = LocalExecutor::new();
    ex.close();
    let slot = common::WakerSlot::new();
    let at = Arc::new(Mutex::new(None));
    let g = G(at.clone());
    let w = slot.wait();
    let r = slot.clone();
    let t = std::thread::spawn(move || { while !r.has_waker() { std::thread::yield_now(); } r.release(); });
    let res = ex.block_on_catch(async move { let _g = g; w.await; 1 }, &mut P(0));
    t.join().unwrap();
    println!("result ok={:?} dropped on {:?}, main {:?}", res.as_ref().ok(), at.lock().unwrap(), std::thread::current().id());
}
