fn main() {
    println!("faultline: not yet");
}
